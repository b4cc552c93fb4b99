// node-oidc-provider configured like the Portcullis demo, as the peer of bench/run.
//
// Same scopes, the same demo user (alice / Demo-Passw0rd!), a confidential client like `consoleclient` and an
// introspecting client like `rs_dataEventRecordsApi`, the same token lifetimes as Portcullis's defaults, refresh
// tokens rotated at every use and PKCE required (as Portcullis does). Three resource indicators choose the
// access-token format the way a Portcullis client's `access_token_format` does:
//   urn:bench:opaque  opaque (node-oidc-provider's default format)
//   urn:bench:jwt     JWT signed with ES256 (Portcullis `jwt`)
//   urn:bench:jwe     JWT signed with ES256, then encrypted RSA-OAEP + A256CBC-HS512 (Portcullis `encrypted`)
//
// Usage: node server.js [port]   (listens on 127.0.0.1 only; prints "ready" when it accepts requests)

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, timingSafeEqual, createPublicKey } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';
// The package's own in-memory adapter, given an unbounded store: its default store is an LRU of 1,000 entries,
// which would evict sessions, grants, codes and refresh tokens long before a benchmark round has used them.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const port = Number(process.argv[2] || process.env.PEER_PORT || 45320);
const issuer = `http://127.0.0.1:${port}`;
const REDIRECT_URI = 'http://127.0.0.1:45399/cb';
const API = 'rs_dataEventRecordsApi';
const SCOPES = ['openid', 'profile', 'email', 'roles', 'offline_access', 'dataEventRecords'];

// A map with the get/set(maxAge)/delete/has interface of the adapter's LRU, without its size bound. Expired
// entries are dropped when read, as the LRU does.
class UnboundedStore {
  #map = new Map();

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, { maxAge } = {}) {
    const expiry = typeof maxAge === 'number' && Number.isFinite(maxAge) ? Date.now() + maxAge : undefined;
    this.#map.set(key, { value, expiry });
    return this;
  }

  has(key) {
    return this.get(key) !== undefined;
  }

  delete(key) {
    return this.#map.delete(key);
  }
}

const store = new UnboundedStore();
const CLOCK_TOLERANCE = 15; // node-oidc-provider's default clockTolerance

// Keys made at start, like Portcullis does on first start: RS256 for ID tokens (first key, the default), ES256
// for JWT access tokens, and the resource server's RSA key for encrypted access tokens.
function privateJwk(type, options, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}
const rsa = privateJwk('rsa', { modulusLength: 2048 }, 'rs256');
const ec = privateJwk('ec', { namedCurve: 'P-256' }, 'es256');
const apiEncryptionKey = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);

const resourceServers = {
  'urn:bench:opaque': { audience: API, scope: 'dataEventRecords', accessTokenFormat: 'opaque' },
  'urn:bench:jwt': {
    audience: API, scope: 'dataEventRecords', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
  },
  'urn:bench:jwe': {
    audience: API,
    scope: 'dataEventRecords',
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' }, encrypt: { alg: 'RSA-OAEP', enc: 'A256CBC-HS512', key: apiEncryptionKey } },
  },
};

const USERS = new Map([
  ['alice', {
    password: 'Demo-Passw0rd!',
    claims: {
      name: 'Alice Smith',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      role: ['dataEventRecords.admin', 'dataEventRecords.user'],
    },
  }],
]);

const configuration = {
  adapter: (model) => new MemoryAdapter(model, store, CLOCK_TOLERANCE),
  clients: [
    {
      client_id: 'consoleclient',
      client_secret: 'consoleClientSecret',
      // node-oidc-provider 9 has no resource owner password grant.
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      scope: SCOPES.join(' '),
    },
    {
      client_id: API,
      client_secret: 'dataEventRecordsSecret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    roles: ['role'],
  },
  // Portcullis puts the granted scopes' claims in the ID token too.
  conformIdTokenClaims: false,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  jwks: { keys: [rsa, ec] },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // node-oidc-provider drops offline_access from an authorization request without prompt=consent (OIDC Core
  // §11), which would make every authorization an interaction. Portcullis keeps a consented offline_access, so
  // a signed-in user's codes give refresh tokens. To compare that same flow, the peer gives a refresh token to
  // every code of a client allowed the refresh_token grant, not bound to the sign-in session.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 300,
    ClientCredentials: 3600,
    IdToken: 1200,
    RefreshToken: 1209600,
    Session: 28800,
    Grant: 1209600,
    Interaction: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (ctx, resource) => {
        const info = resourceServers[resource];
        if (!info) throw new errors.InvalidTarget();
        return info;
      },
    },
  },
  async findAccount(ctx, sub) {
    const user = USERS.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...user.claims }) };
  },
};

const provider = new Provider(issuer, configuration);

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, action, fields) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>
<h1>${title}</h1><form method="post" action="${escape(action)}">${fields}</form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function passwordMatches(user, password) {
  const expected = Buffer.from(user.password);
  const given = Buffer.from(password);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// The sign-in and consent pages: only used while the bench prepares a signed-in session, never measured.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  const url = new URL(req.url, issuer);
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (prompt.name === 'login') {
      res.end(page('Sign in', `/interaction/${uid}/login`,
        '<input name="username"><input type="password" name="password">'
        + '<button type="submit" name="decision" value="login">Sign in</button>'));
    } else {
      res.end(page('Consent', `/interaction/${uid}/confirm`,
        '<button type="submit" name="decision" value="allow">Allow</button>'));
    }
    return;
  }
  if (url.pathname.endsWith('/login')) {
    const form = await readForm(req);
    const user = USERS.get(form.get('username') ?? '');
    if (!user || !passwordMatches(user, form.get('password') ?? '')) {
      res.statusCode = 401;
      res.end('wrong user name or password');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: form.get('username') } },
      { mergeWithLastSubmission: false });
    return;
  }
  // Consent: grant what the prompt found missing, as the usual node-oidc-provider example does.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
