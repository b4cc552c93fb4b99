//! OAuth 2.0 Form Post Response Mode §2: the authorization response is delivered as an HTML form that the
//! browser posts to the client's redirect URI.
//!
//! "The Authorization Server ... returns an HTML document containing a form ... with the action attribute set
//! to the Client's Redirection URI. The form MUST be submitted by the User Agent using the HTTP POST method
//! ... as soon as it is loaded." One inline script submits it, allowed by its hash; without JavaScript a
//! Continue button does the same.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use url::Url;

use super::{ErrorView, Locale, Page, csp, error};

/// The one inline script; the page has one form. Its hash goes into the policy, so a change here is allowed
/// automatically, as long as it holds none of the characters askama escapes (`<>&"'`): the hash is of the text
/// as sent, which a test checks against the rendered page.
const AUTO_SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    page: Page,
    action: &'a str,
    fields: &'a [(String, String)],
    script: &'static str,
}

/// RFC: OAuth 2.0 Form Post Response Mode — an auto-submitting form POSTing `fields` to `action`.
///
/// The page has no locale of its own; it is English. [`form_post_in`] takes one.
pub fn form_post(action: &Url, fields: &[(String, String)]) -> Response {
    form_post_in(Locale::En, action, fields)
}

/// [`form_post`] in the user's language: its text shows only without JavaScript or on a slow client.
///
/// `action` must be an http(s) URL whose origin a policy can name, since `form-action` allows exactly that
/// origin. The flow code only passes validated redirect URIs, so anything else is a bug: it gets a 500 error
/// page rather than a form that posts the response somewhere unexpected or under a weakened policy.
pub fn form_post_in(locale: Locale, action: &Url, fields: &[(String, String)]) -> Response {
    let Some(origin) = csp::origin_source(action) else {
        tracing::error!(
            scheme = action.scheme(),
            "form_post response mode refused: the redirect URI has no origin a policy can name"
        );
        let view = ErrorView {
            locale,
            error: "server_error",
            description: "The response could not be delivered to the application.",
        };
        return error(StatusCode::INTERNAL_SERVER_ERROR, &view);
    };
    let page = FormPostPage { page: Page::new(locale), action: action.as_str(), fields, script: AUTO_SUBMIT_SCRIPT };
    super::render(StatusCode::OK, &page, &csp::form_post(AUTO_SUBMIT_SCRIPT, &origin))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{body, header};
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    fn inline_script(html: &str) -> &str {
        let start = html.find("<script>").unwrap() + "<script>".len();
        let end = html[start..].find("</script>").unwrap() + start;
        assert_eq!(html.matches("<script").count(), 1, "exactly one script, and it is inline");
        &html[start..end]
    }

    #[tokio::test]
    async fn form_post_2_posts_every_field_to_the_redirect_uri() {
        let action = Url::parse("https://client.example/cb?tenant=a&b=c").unwrap();
        let response =
            form_post(&action, &fields(&[("code", "abc123"), ("state", "xyz"), ("iss", "http://localhost:44319")]));
        assert_eq!(response.status(), StatusCode::OK);
        let html = body(response).await;
        assert!(html.contains(r#"<form method="post" action="https://client.example/cb?tenant=a&#38;b=c""#), "{html}");
        assert!(html.contains(r#"<input type="hidden" name="code" value="abc123">"#));
        assert!(html.contains(r#"<input type="hidden" name="state" value="xyz">"#));
        assert!(html.contains(r#"<input type="hidden" name="iss" value="http://localhost:44319">"#));
        assert!(html.contains(r#"<html lang="en">"#));
    }

    #[tokio::test]
    async fn form_post_fields_are_escaped() {
        let action = Url::parse("https://client.example/cb").unwrap();
        let hostile = r#""><script>alert(1)</script>"#;
        let html = body(form_post(&action, &fields(&[("state", hostile), (hostile, "v")]))).await;
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(html.contains(r#"value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;""#), "{html}");
        assert!(html.contains(r#"name="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;""#), "{html}");
    }

    #[tokio::test]
    async fn form_post_policy_allows_exactly_the_target_origin_and_the_script_hash() {
        let action = Url::parse("http://localhost:4200/callback").unwrap();
        let response = form_post(&action, &fields(&[("code", "c")]));
        let policy = header(&response, "content-security-policy");
        let html = body(response).await;
        let hash = csp::script_hash(inline_script(&html));
        assert_eq!(
            policy,
            format!(
                "default-src 'none'; script-src {hash}; style-src 'self'; img-src 'self' data:; \
                 form-action http://localhost:4200; frame-ancestors 'none'; base-uri 'none'"
            )
        );
        assert!(!policy.contains("unsafe-inline"));
    }

    #[tokio::test]
    async fn form_post_script_hash_matches_the_script_as_rendered() {
        let action = Url::parse("https://client.example/cb").unwrap();
        let response = form_post(&action, &[]);
        let policy = header(&response, "content-security-policy");
        let html = body(response).await;
        let script = inline_script(&html);
        assert_eq!(script, AUTO_SUBMIT_SCRIPT, "askama must not have changed the script");
        assert!(policy.contains(&format!("script-src {};", csp::script_hash(script))), "{policy}");
        assert_eq!(html.matches("<form").count(), 1, "the script submits the first form");
    }

    #[tokio::test]
    async fn form_post_works_without_javascript() {
        let action = Url::parse("https://client.example/cb").unwrap();
        let html = body(form_post(&action, &[])).await;
        let noscript = &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
        assert!(noscript.contains(r#"<button type="submit""#), "{html}");
        assert!(noscript.contains("Continue"));
        let form_end = html.find("</form>").unwrap();
        assert!(html.find("<noscript>").unwrap() < form_end, "the button must submit the form");
    }

    #[tokio::test]
    async fn form_post_carries_the_page_headers() {
        let action = Url::parse("https://client.example/cb").unwrap();
        let response = form_post(&action, &[]);
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "cache-control"), "no-store");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
        assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"));
    }

    #[tokio::test]
    async fn form_post_in_french() {
        let action = Url::parse("https://client.example/cb").unwrap();
        let html = body(form_post_in(Locale::Fr, &action, &[])).await;
        assert!(html.contains(r#"<html lang="fr">"#));
        assert!(html.contains("Continuer"));
    }

    #[tokio::test]
    async fn form_post_refuses_a_target_without_a_nameable_origin() {
        for target in ["javascript:alert(1)//", "com.example.app:/cb", "data:text/html,hi"] {
            let action = Url::parse(target).unwrap();
            let response = form_post(&action, &fields(&[("code", "secret-code")]));
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{target}");
            let policy = header(&response, "content-security-policy");
            assert!(policy.contains("form-action 'self'"), "{policy}");
            let html = body(response).await;
            assert!(!html.contains("secret-code"), "the response must not be delivered: {html}");
            assert!(!html.contains("<form"), "{html}");
        }
    }
}
