/// A scope a client can request, with the words shown on the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// Audiences (resource servers) an access token carrying this scope is meant for.
    pub resources: Vec<String>,
}

/// The scopes OpenID Connect defines (Core §5.4, §11) plus `roles`; every provider has them.
pub const STANDARD_SCOPES: [(&str, &str); 6] = [
    ("openid", "Sign you in"),
    ("profile", "Your name and user name"),
    ("email", "Your email address"),
    ("phone", "Your phone number"),
    ("roles", "Your roles"),
    ("offline_access", "Stay signed in when you are away"),
];
