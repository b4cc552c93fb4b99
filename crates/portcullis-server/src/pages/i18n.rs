//! Every piece of text the pages show, once per language.
//!
//! A struct rather than message files: a missing translation is a compile error, and the pages need no lookup
//! at run time. French follows French typography (a non-breaking space before `:`, `?`, `!` and `;`).

/// A sentence around one value (a client's or a user's name). The value is rendered between the two parts
/// by the template, so it is escaped like every other value and can be emphasised.
#[derive(Debug)]
pub struct Phrase {
    pub before: &'static str,
    pub after: &'static str,
}

#[derive(Debug)]
pub struct Strings {
    // Login.
    pub login_title: &'static str,
    /// Under the heading when the client is known: "to continue to {client}".
    pub login_continue_to: Phrase,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    /// Security checklist U1: one message for an unknown user and a wrong password.
    pub invalid_credentials: &'static str,
    pub locked_out: &'static str,
    pub session_expired: &'static str,

    // Consent.
    pub consent_title: &'static str,
    /// The heading above the list of scopes: "{client} wants to:".
    pub consent_wants_to: Phrase,
    pub signed_in_as: Phrase,
    pub consent_trust: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,

    // Logout.
    pub logout_title: &'static str,
    pub logout_question: &'static str,
    /// Shown when a client started the logout: "{client} asked to sign you out."
    pub logout_requested_by: Phrase,
    pub logout_explanation: &'static str,
    pub logout_confirm: &'static str,
    pub logout_cancel: &'static str,

    // Messages the flow code can pass to the message page.
    pub signed_out_title: &'static str,
    pub signed_out_message: &'static str,
    pub logout_cancelled_title: &'static str,
    pub logout_cancelled_message: &'static str,

    // Error page.
    pub error_title: &'static str,
    pub error_explanation: &'static str,
    pub error_details: &'static str,
    pub error_code: &'static str,
    pub error_description: &'static str,

    // Form post response mode.
    pub form_post_title: &'static str,
    pub form_post_explanation: &'static str,
    pub form_post_continue: &'static str,
}

pub static EN: Strings = Strings {
    login_title: "Sign in",
    login_continue_to: Phrase { before: "to continue to ", after: "" },
    username: "Username",
    password: "Password",
    sign_in: "Sign in",
    invalid_credentials: "The username or password is incorrect. Please try again.",
    locked_out: "Too many unsuccessful sign-in attempts. For your security, please wait a few minutes before \
                 trying again.",
    session_expired: "Your session has expired. Please sign in again.",

    consent_title: "Allow access",
    consent_wants_to: Phrase { before: "", after: " wants to:" },
    signed_in_as: Phrase { before: "Signed in as ", after: "" },
    consent_trust: "Only allow access if you trust this application.",
    allow: "Allow",
    deny: "Deny",

    logout_title: "Sign out",
    logout_question: "Do you want to sign out?",
    logout_requested_by: Phrase { before: "", after: " asked to sign you out." },
    logout_explanation: "You will be signed out of your account in this browser.",
    logout_confirm: "Sign out",
    logout_cancel: "Stay signed in",

    signed_out_title: "You are signed out",
    signed_out_message: "You have been signed out of your account. You can now close this window.",
    logout_cancelled_title: "You are still signed in",
    logout_cancelled_message: "You have not been signed out. You can now close this window.",

    error_title: "Something went wrong",
    error_explanation: "We could not complete this request. Please go back to the application you came from and \
                        try again. If the problem continues, contact its support team and mention the details \
                        below.",
    error_details: "Details",
    error_code: "Error code",
    error_description: "Description",

    form_post_title: "Continue",
    form_post_explanation: "Returning you to the application…",
    form_post_continue: "Continue",
};

pub static FR: Strings = Strings {
    login_title: "Connexion",
    login_continue_to: Phrase { before: "pour continuer vers ", after: "" },
    username: "Nom d’utilisateur",
    password: "Mot de passe",
    sign_in: "Se connecter",
    invalid_credentials: "Le nom d’utilisateur ou le mot de passe est incorrect. Veuillez réessayer.",
    locked_out: "Trop de tentatives de connexion infructueuses. Pour votre sécurité, veuillez patienter quelques \
                 minutes avant de réessayer.",
    session_expired: "Votre session a expiré. Veuillez vous reconnecter.",

    consent_title: "Autoriser l’accès",
    consent_wants_to: Phrase { before: "", after: "\u{a0}souhaite\u{a0}:" },
    signed_in_as: Phrase { before: "Connecté en tant que ", after: "" },
    consent_trust: "N’autorisez l’accès que si vous faites confiance à cette application.",
    allow: "Autoriser",
    deny: "Refuser",

    logout_title: "Déconnexion",
    logout_question: "Voulez-vous vous déconnecter\u{a0}?",
    logout_requested_by: Phrase { before: "", after: " demande à vous déconnecter." },
    logout_explanation: "Votre session sera fermée dans ce navigateur.",
    logout_confirm: "Se déconnecter",
    logout_cancel: "Rester connecté",

    signed_out_title: "Déconnexion réussie",
    signed_out_message: "Votre session a été fermée. Vous pouvez maintenant fermer cette fenêtre.",
    logout_cancelled_title: "Votre session est toujours ouverte",
    logout_cancelled_message: "Votre session n’a pas été fermée. Vous pouvez maintenant fermer cette fenêtre.",

    error_title: "Une erreur est survenue",
    error_explanation: "Nous n’avons pas pu traiter cette demande. Veuillez revenir à l’application d’origine et \
                        réessayer. Si le problème persiste, contactez son assistance en indiquant les détails \
                        ci-dessous.",
    error_details: "Détails",
    error_code: "Code d’erreur",
    error_description: "Description",

    form_post_title: "Continuer",
    form_post_explanation: "Retour vers l’application…",
    form_post_continue: "Continuer",
};
