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

    // Device verification (RFC 8628 §3.3).
    pub device_title: &'static str,
    pub device_instructions: &'static str,
    pub device_code_label: &'static str,
    pub device_continue: &'static str,
    /// One message for an unknown, expired and used code: telling them apart would help someone guessing.
    pub device_invalid_code: &'static str,
    /// Shown once the verification page's attempt limit is reached (RFC 8628 §5.1).
    pub device_too_many_attempts: &'static str,
    pub device_confirm_title: &'static str,
    /// The heading above the list of scopes: "{client} on a device wants to:".
    pub device_wants_to: Phrase,
    /// RFC 8628 §3.3.1: the user checks the code they confirm is the one on their device: "... {code} ...".
    pub device_code_matches: Phrase,
    /// RFC 8628 §5.4 (remote phishing): only approve a device in front of you.
    pub device_warning: &'static str,
    pub device_approve: &'static str,
    pub device_deny: &'static str,
    pub device_approved_title: &'static str,
    pub device_approved_message: &'static str,
    pub device_denied_title: &'static str,
    pub device_denied_message: &'static str,

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
    username: "Username or email",
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

    device_title: "Connect a device",
    device_instructions: "Enter the code shown on your device.",
    device_code_label: "Code",
    device_continue: "Continue",
    device_invalid_code: "This code is not valid: it may have expired or already been used. Check the code shown on \
                          your device and try again.",
    device_too_many_attempts: "Too many incorrect codes. For your security, please wait a few minutes before trying \
                               again.",
    device_confirm_title: "Allow a device",
    device_wants_to: Phrase { before: "", after: " on a device wants to:" },
    device_code_matches: Phrase { before: "Check that your device shows the code ", after: "." },
    device_warning: "Only approve if you started this on a device that is in front of you. Never approve a code \
                     that someone sent you.",
    device_approve: "Approve",
    device_deny: "Deny",
    device_approved_title: "Device connected",
    device_approved_message: "You are all set. Return to your device to continue; you can close this window.",
    device_denied_title: "Access denied",
    device_denied_message: "The device was not given access to your account. You can close this window.",

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
    username: "Nom d’utilisateur ou e-mail",
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

    device_title: "Connecter un appareil",
    device_instructions: "Saisissez le code affiché sur votre appareil.",
    device_code_label: "Code",
    device_continue: "Continuer",
    device_invalid_code: "Ce code n’est pas valide\u{a0}: il a peut-être expiré ou déjà été utilisé. Vérifiez le code \
                          affiché sur votre appareil et réessayez.",
    device_too_many_attempts: "Trop de codes incorrects. Pour votre sécurité, veuillez patienter quelques minutes \
                               avant de réessayer.",
    device_confirm_title: "Autoriser un appareil",
    device_wants_to: Phrase { before: "", after: " sur un appareil souhaite\u{a0}:" },
    device_code_matches: Phrase { before: "Vérifiez que votre appareil affiche le code ", after: "." },
    device_warning: "N’autorisez que si vous avez lancé cette demande sur un appareil qui se trouve devant vous. \
                     N’autorisez jamais un code que quelqu’un vous a envoyé.",
    device_approve: "Autoriser",
    device_deny: "Refuser",
    device_approved_title: "Appareil connecté",
    device_approved_message: "C’est terminé. Retournez sur votre appareil pour continuer\u{a0}; vous pouvez fermer \
                              cette fenêtre.",
    device_denied_title: "Accès refusé",
    device_denied_message: "L’appareil n’a pas obtenu l’accès à votre compte. Vous pouvez fermer cette fenêtre.",

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
