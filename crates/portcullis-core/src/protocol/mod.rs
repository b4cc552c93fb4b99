//! Protocol rules of OAuth 2.0 and OpenID Connect, free of HTTP and storage.
