//! The device verification pages (RFC 8628 §3.3): enter the code, approve or deny, done.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Locale, Page, ScopeLine, csp, render};
use crate::metadata::DEVICE_VERIFY_PATH;

/// Why the code entry page is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceProblem {
    /// Unknown, expired and used codes alike: telling them apart would help whoever is guessing.
    InvalidCode,
    /// The attempt limit is reached (RFC 8628 §5.1); even a right code waits.
    TooManyAttempts,
}

#[derive(Debug)]
pub struct DeviceEntryView<'a> {
    pub locale: Locale,
    pub csrf_token: &'a str,
    /// Prefill: `?user_code=` of `verification_uri_complete`, or the last attempt.
    pub user_code: &'a str,
    pub user_name: &'a str,
    pub problem: Option<DeviceProblem>,
}

#[derive(Debug)]
pub struct DeviceConfirmView<'a> {
    pub locale: Locale,
    pub csrf_token: &'a str,
    /// The code as the device shows it (`WDJB-MJHT`): compared by the user, posted back with the answer.
    pub user_code: &'a str,
    pub client_name: &'a str,
    pub user_name: &'a str,
    pub scopes: &'a [ScopeLine],
}

/// How the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceOutcome {
    Approved,
    Denied,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DeviceEntryPage<'a> {
    page: Page,
    view: &'a DeviceEntryView<'a>,
    problem: Option<&'static str>,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "device_confirm.html")]
struct DeviceConfirmPage<'a> {
    page: Page,
    view: &'a DeviceConfirmView<'a>,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "device_done.html")]
struct DeviceDonePage {
    page: Page,
    title: &'static str,
    message: &'static str,
    outcome: &'static str,
}

/// The code entry page. 200 with or without a problem, like the sign-in page; a reached limit is 429 so that
/// tools and logs see it for what it is.
pub fn device_entry(view: &DeviceEntryView) -> Response {
    let t = view.locale.strings();
    let (problem, status) = match view.problem {
        None => (None, StatusCode::OK),
        Some(DeviceProblem::InvalidCode) => (Some(t.device_invalid_code), StatusCode::OK),
        Some(DeviceProblem::TooManyAttempts) => (Some(t.device_too_many_attempts), StatusCode::TOO_MANY_REQUESTS),
    };
    let page = DeviceEntryPage { page: Page::new(view.locale), view, problem, action: DEVICE_VERIFY_PATH };
    render(status, &page, &csp::page())
}

pub fn device_confirm(view: &DeviceConfirmView) -> Response {
    let page = DeviceConfirmPage { page: Page::new(view.locale), view, action: DEVICE_VERIFY_PATH };
    render(StatusCode::OK, &page, &csp::page())
}

pub fn device_done(locale: Locale, outcome: DeviceOutcome) -> Response {
    let t = locale.strings();
    let (title, message, outcome) = match outcome {
        DeviceOutcome::Approved => (t.device_approved_title, t.device_approved_message, "approved"),
        DeviceOutcome::Denied => (t.device_denied_title, t.device_denied_message, "denied"),
    };
    render(StatusCode::OK, &DeviceDonePage { page: Page::new(locale), title, message, outcome }, &csp::page())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::tests::{body, header};
    use super::*;

    fn entry_view(locale: Locale) -> DeviceEntryView<'static> {
        DeviceEntryView { locale, csrf_token: "csrf-123", user_code: "WDJB-MJHT", user_name: "alice", problem: None }
    }

    fn scopes() -> Vec<ScopeLine> {
        vec![
            ScopeLine { name: "openid".into(), display_name: "Sign you in".into(), description: None },
            ScopeLine { name: "dataEventRecords".into(), display_name: String::new(), description: None },
        ]
    }

    fn confirm_view(locale: Locale, scopes: &[ScopeLine]) -> DeviceConfirmView<'_> {
        DeviceConfirmView {
            locale,
            csrf_token: "csrf-123",
            user_code: "WDJB-MJHT",
            client_name: "Device demo application",
            user_name: "alice",
            scopes,
        }
    }

    /// Every device page, in both languages.
    pub(in crate::pages) fn every_device_page() -> Vec<(&'static str, Response)> {
        let scopes = scopes();
        let mut pages = Vec::new();
        for locale in [Locale::En, Locale::Fr] {
            pages.push(("device", device_entry(&entry_view(locale))));
            pages.push(("device_confirm", device_confirm(&confirm_view(locale, &scopes))));
            pages.push(("device_done", device_done(locale, DeviceOutcome::Approved)));
        }
        pages
    }

    #[test]
    fn security_checklist_s4_device_pages_forbid_framing_and_caching() {
        for (name, response) in every_device_page() {
            assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"), "{name}");
            assert!(header(&response, "content-security-policy").contains("form-action 'self';"), "{name}");
            assert_eq!(header(&response, "x-frame-options"), "DENY", "{name}");
            assert_eq!(header(&response, "cache-control"), "no-store", "{name}");
        }
    }

    #[tokio::test]
    async fn device_entry_form_contract() {
        let html = body(device_entry(&entry_view(Locale::En))).await;
        assert!(html.contains(r#"<form method="post" action="/connect/verify">"#), "{html}");
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="csrf-123">"#));
        assert!(html.contains(r#"name="user_code" type="text" value="WDJB-MJHT""#), "{html}");
        for hook in ["device-code-input", "device-submit"] {
            assert_eq!(html.matches(&format!(r#"data-testid="{hook}""#)).count(), 1, "{hook}");
        }
        assert!(html.contains("Enter the code shown on your device."));
        assert!(html.contains("Signed in as <strong>alice</strong>"));
        assert!(!html.contains("device-error"), "no problem, no message");
    }

    #[tokio::test]
    async fn rfc8628_5_1_entry_problems_are_shown_with_their_hook() {
        let cases = [
            (Locale::En, DeviceProblem::InvalidCode, 200, "This code is not valid"),
            (Locale::Fr, DeviceProblem::InvalidCode, 200, "Ce code n’est pas valide"),
            (Locale::En, DeviceProblem::TooManyAttempts, 429, "Too many incorrect codes."),
            (Locale::Fr, DeviceProblem::TooManyAttempts, 429, "Trop de codes incorrects."),
        ];
        for (locale, problem, status, text) in cases {
            let response = device_entry(&DeviceEntryView { problem: Some(problem), ..entry_view(locale) });
            assert_eq!(response.status(), status, "{problem:?}");
            let html = body(response).await;
            let at = html.find(r#"data-testid="device-error">"#).unwrap_or_else(|| panic!("{problem:?}: {html}"));
            assert!(html[at..].contains(text), "{problem:?} in {locale:?}: {html}");
            assert!(html.contains(r#"aria-describedby="device-error""#));
        }
    }

    #[tokio::test]
    async fn device_confirm_form_contract_in_english() {
        let scopes = scopes();
        let html = body(device_confirm(&confirm_view(Locale::En, &scopes))).await;
        assert!(html.contains(r#"<strong class="client">Device demo application</strong> on a device wants to:"#));
        assert!(html.contains(r#"<input type="hidden" name="user_code" value="WDJB-MJHT">"#), "{html}");
        assert!(html.contains(r#"<code class="user-code" data-testid="device-user-code">WDJB-MJHT</code>"#));
        assert!(html.contains(r#"value="approve" class="primary" data-testid="device-approve">Approve</button>"#));
        assert!(html.contains(r#"value="deny" class="secondary" data-testid="device-deny">Deny</button>"#));
        assert!(html.contains(r#"<span class="scope-name">Sign you in</span>"#));
        assert!(html.contains(r#"<span class="scope-name">dataEventRecords</span>"#));
        assert!(html.contains("Never approve a code"));
    }

    #[tokio::test]
    async fn device_pages_in_french() {
        let scopes = scopes();
        let html = body(device_confirm(&confirm_view(Locale::Fr, &scopes))).await;
        assert!(html.contains(r#"<html lang="fr">"#));
        assert!(html.contains(">Autoriser</button>") && html.contains(">Refuser</button>"));
        assert!(html.contains("sur un appareil souhaite\u{a0}:"));
        assert!(!html.contains("Approve"), "English text left on the French page");
        let html = body(device_entry(&entry_view(Locale::Fr))).await;
        assert!(html.contains("<title>Connecter un appareil</title>"));
        let html = body(device_done(Locale::Fr, DeviceOutcome::Denied)).await;
        assert!(html.contains(r#"data-testid="device-done" data-outcome="denied">L’appareil n’a pas obtenu"#));
    }

    #[tokio::test]
    async fn device_pages_escape_every_value() {
        let hostile = r#"<script>alert("x")</script>"#;
        let scopes = vec![ScopeLine { name: hostile.into(), display_name: hostile.into(), description: None }];
        let view = DeviceConfirmView {
            locale: Locale::En,
            csrf_token: hostile,
            user_code: hostile,
            client_name: hostile,
            user_name: hostile,
            scopes: &scopes,
        };
        let html = body(device_confirm(&view)).await;
        assert!(!html.contains("<script>"), "{html}");
        let view =
            DeviceEntryView { csrf_token: hostile, user_code: hostile, user_name: hostile, ..entry_view(Locale::En) };
        let html = body(device_entry(&view)).await;
        assert!(!html.contains("<script>"), "{html}");
    }
}
