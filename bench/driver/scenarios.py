"""The scenarios: what each server is sent, and what it is compared with.

A scenario maps each server to a `Plan` (the request, and whether it needs a pool of one-time values made before
each round) or to the reason it cannot take part. Portcullis and node-oidc-provider get the same kind of
request with their own clients and paths; where they cannot issue the same token format, the notes say what
was compared.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from flows import CODE_SCOPE, REDIRECT_URI, basic
from load import Request
from servers import Nginx, Peer, Portcullis, Server

PASSWORD_SCOPE = "openid profile offline_access dataEventRecords"
PEER_RESOURCE = {"encrypted": "urn:bench:jwe", "jwt": "urn:bench:jwt", "reference": "urn:bench:opaque"}
PEER_FORMAT = {"encrypted": "JWT (ES256) encrypted RSA-OAEP+A256CBC-HS512", "jwt": "JWT (ES256)",
               "reference": "opaque"}


@dataclass
class Scenario:
    id: str
    title: str
    notes: str = ""
    # Seconds a round lasts at least: a password check takes a large part of a second on a busy 2-core machine,
    # so a 1-second smoke round could end before the first answer.
    min_duration: int = 1


@dataclass
class Plan:
    request: Request
    pool: str | None = None  # "code" or "refresh": a pool is made before every round


SCENARIOS = [
    Scenario("cc-encrypted", "client credentials, encrypted access token",
             f"peer: {PEER_FORMAT['encrypted']}, via a resource indicator; it stores no record of a JWT"),
    Scenario("cc-jwt", "client credentials, JWT access token",
             f"peer: {PEER_FORMAT['jwt']}, via a resource indicator; it stores no record of a JWT"),
    Scenario("cc-reference", "client credentials, reference access token", "peer: opaque (its default format)"),
    Scenario("introspect-encrypted", "introspection of an encrypted access token",
             "peer: n/a, node-oidc-provider refuses to introspect JWT access tokens"),
    Scenario("introspect-jwt", "introspection of a JWT access token",
             "peer: n/a, node-oidc-provider refuses to introspect JWT access tokens"),
    Scenario("introspect-reference", "introspection of a reference access token", "peer: opaque token"),
    Scenario("code", "authorization code redemption (PKCE S256)",
             "codes made before each round by a signed-in session; Portcullis: encrypted access token, ID token, "
             "refresh token; peer: opaque access token, ID token, refresh token"),
    Scenario("refresh", "refresh token rotation",
             "each refresh token used once, from a pool made before each round; only successful rotations count"),
    Scenario("password", "password grant (argon2id)",
             "peer: n/a, node-oidc-provider 9 has no password grant; compared with the argon2id limit",
             min_duration=3),
    Scenario("userinfo", "userinfo (Bearer access token)",
             "Portcullis: encrypted access token; peer: opaque access token"),
    Scenario("discovery", "discovery document", "nginx serves Portcullis's bytes from a file"),
    Scenario("jwks", "JWKS", "nginx serves Portcullis's bytes from a file"),
]


def form(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


def authorize_query(client_id: str) -> str:
    """The authorization request of a harvest; {2} is the PKCE challenge and {i} the state (see pool.lua)."""
    fixed = urllib.parse.urlencode({"client_id": client_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                                    "scope": CODE_SCOPE, "nonce": "bench"})
    return fixed + "&state={i}&code_challenge={2}&code_challenge_method=S256"


def code_client(server: Server) -> str:
    return "bench-code" if isinstance(server, Portcullis) else "consoleclient"


def plan(scenario: Scenario, server: Server, prepared: dict) -> Plan | str:
    """What `server` is sent in `scenario`, or why it does not take part. `prepared` holds the server's
    tokens (see main.prepare)."""
    paths, secrets = server.paths, getattr(server, "secrets", {})
    is_portcullis, is_peer = isinstance(server, Portcullis), isinstance(server, Peer)
    if isinstance(server, Nginx):
        if scenario.id == "discovery":
            return Plan(Request("GET", "/.well-known/openid-configuration"))
        if scenario.id == "jwks":
            return Plan(Request("GET", "/.well-known/jwks"))
        return "baseline only for discovery and JWKS"
    introspect = basic("rs_dataEventRecordsApi", secrets["rs_dataEventRecordsApi"])
    kind, _, token_format = scenario.id.partition("-")
    if kind == "cc":
        if is_portcullis:
            client = f"bench-cc-{token_format}"
            body = form(grant_type="client_credentials", scope="dataEventRecords")
        else:
            client = "consoleclient"
            body = form(grant_type="client_credentials", scope="dataEventRecords",
                        resource=PEER_RESOURCE[token_format])
        return Plan(Request("POST", paths["token_endpoint"], body,
                            [f"Authorization: {basic(client, secrets[client])}"]))
    if kind == "introspect":
        if is_peer and token_format != "reference":
            return "node-oidc-provider does not introspect JWT access tokens"
        token = prepared["cc_tokens"][token_format]
        return Plan(Request("POST", paths["introspection_endpoint"], form(token=token),
                            [f"Authorization: {introspect}"]))
    if scenario.id == "password":
        if is_peer:
            return "node-oidc-provider 9 has no password grant"
        body = form(grant_type="password", username="alice", password="Demo-Passw0rd!", scope=PASSWORD_SCOPE)
        return Plan(Request("POST", paths["token_endpoint"], body,
                            [f"Authorization: {basic('consoleclient', secrets['consoleclient'])}"]))
    client = code_client(server)
    auth = f"Authorization: {basic(client, secrets[client])}"
    if scenario.id == "code":
        body = "grant_type=authorization_code&code={1}&code_verifier={2}&" + form(redirect_uri=REDIRECT_URI)
        return Plan(Request("POST", paths["token_endpoint"], body, [auth]), pool="code")
    if scenario.id == "refresh":
        return Plan(Request("POST", paths["token_endpoint"], "grant_type=refresh_token&refresh_token={1}", [auth]),
                    pool="refresh")
    if scenario.id == "userinfo":
        return Plan(Request("GET", paths["userinfo_endpoint"], None,
                            [f"Authorization: Bearer {prepared['userinfo_token']}"]))
    if scenario.id == "discovery":
        return Plan(Request("GET", "/.well-known/openid-configuration"))
    if scenario.id == "jwks":
        return Plan(Request("GET", paths["jwks_uri"]))
    raise ValueError(f"unknown scenario {scenario.id}")
