"""What a client does before a round: sign in through the provider's own pages, get tokens, make PKCE pairs.

Plain HTTP/1.1 over http.client with a hand-kept cookie jar and no automatic redirects, so every step of a
sign-in is visible and the same code works against Portcullis and node-oidc-provider: it follows redirects,
fills in whatever form a page shows (user name, password, hidden fields such as a CSRF token) and presses its
"allow"/"sign in" button, until the provider redirects to the client with a code.
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import http.client
import json
import secrets
import urllib.parse

REDIRECT_URI = "http://127.0.0.1:45399/cb"
CODE_SCOPE = "openid profile email roles offline_access dataEventRecords"
USERNAME = "alice"
PASSWORD = "Demo-Passw0rd!"


class FlowError(Exception):
    pass


def basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: form-encode, then Base64.
    pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def write_pkce_pairs(path: str, count: int) -> None:
    with open(path, "w") as out:
        for _ in range(count):
            verifier, challenge = pkce_pair()
            out.write(f"{verifier}\t{challenge}\n")


class Http:
    """One keep-alive connection to one server, with the cookies it set."""

    def __init__(self, base: str):
        self.base = base
        parts = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, target: str, body: dict | None = None, headers: dict | None = None):
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(self.base + "/", target))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            # The server closed the kept-alive connection: one retry on a new one.
            self.conn.close()
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def form_json(self, path: str, body: dict, auth: str | None = None) -> dict:
        status, _, payload = self.request("POST", path, body, {"Authorization": auth} if auth else None)
        if status != 200:
            raise FlowError(f"POST {path} answered {status}: {payload[:300]!r}")
        return json.loads(payload)


class FormFinder(html.parser.HTMLParser):
    """The first form of a page: its action, its inputs and its submit buttons."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []
        self.inputs: list[str] = []
        self._inside = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if self._done:
            return
        if tag == "form" and self.action is None:
            self.action = attrs.get("action", "")
            self._inside = True
        elif self._inside and tag == "input" and attrs.get("name"):
            self.inputs.append(attrs["name"])
            if attrs.get("type") not in ("submit", "checkbox", "radio") or "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value", "")
        elif self._inside and tag == "button" and attrs.get("name"):
            self.buttons.append((attrs["name"], attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form" and self._inside:
            self._inside, self._done = False, True


def authorize_query(client_id: str, challenge: str, state: str) -> str:
    return urllib.parse.urlencode({
        "client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": CODE_SCOPE,
        "state": state, "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256",
    })


def sign_in(base: str, authorize_path: str, client_id: str) -> tuple[Http, str, str]:
    """Signs alice in and consents; returns the session (its cookies), a first code and its PKCE verifier."""
    http = Http(base)
    verifier, challenge = pkce_pair()
    target = f"{authorize_path}?{authorize_query(client_id, challenge, 'sign-in')}"
    method, body = "GET", None
    origin = base
    for _ in range(12):
        status, headers, payload = http.request(method, target, body, {"Origin": origin} if body else None)
        if status in (301, 302, 303, 307):
            target = urllib.parse.urljoin(urllib.parse.urljoin(base + "/", target), headers["location"])
            method, body = "GET", None
            if target.startswith(REDIRECT_URI):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
                if "code" not in query:
                    raise FlowError(f"sign-in ended without a code: {target}")
                return http, query["code"][0], verifier
            continue
        if status != 200:
            raise FlowError(f"sign-in: {method} {target} answered {status}: {payload[:300]!r}")
        form = FormFinder()
        form.feed(payload.decode("utf-8", "replace"))
        if form.action is None:
            raise FlowError(f"sign-in: no form on {target}: {payload[:300]!r}")
        fields = dict(form.fields)
        if "username" in form.inputs:
            fields["username"] = USERNAME
        if "password" in form.inputs:
            fields["password"] = PASSWORD
        # The button that goes on: "allow" on a consent page, the only one on a sign-in page.
        for name, value in form.buttons:
            if value in ("allow", "login", "accept", "yes") or len(form.buttons) == 1:
                fields[name] = value
                break
        target = urllib.parse.urljoin(urllib.parse.urljoin(base + "/", target), form.action)
        method, body = "POST", fields
    raise FlowError("sign-in: too many steps")


def cookie_value(http: Http) -> str:
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())
