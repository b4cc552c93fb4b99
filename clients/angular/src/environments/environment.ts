/**
 * Every deployment-specific value of the SPA lives here, so the demo setup (see docs/design: "Demo data")
 * can be changed in one place. Development and production builds share it; what differs between them
 * (the OIDC library's logging) follows Angular's `isDevMode()`.
 */
export interface Environment {
  /** The Portcullis provider (OpenID Connect issuer). Must equal the `iss` of its tokens exactly. */
  readonly authority: string;
  /** The public client registered for this SPA (authorization code + PKCE, refresh tokens). */
  readonly clientId: string;
  /** Where the provider sends the browser back with the authorization code (route `/callback`). */
  readonly redirectUrl: string;
  /** Where the provider sends the browser after RP-initiated logout. */
  readonly postLogoutRedirectUri: string;
  /** Scopes requested at login; `offline_access` yields the refresh token used for silent renew. */
  readonly scope: string;
  /** The dataEventRecords API resource. */
  readonly apiUrl: string;
  /**
   * URL prefixes that receive the access token. Only requests whose URL starts with one of these get an
   * `Authorization: Bearer` header; everything else (the provider included) never sees the token.
   */
  readonly secureRoutes: readonly string[];
}

const apiOrigin = 'http://localhost:44390';

export const environment: Environment = {
  authority: 'http://localhost:44319',
  clientId: 'angularclient',
  redirectUrl: 'http://localhost:4200/callback',
  postLogoutRedirectUri: 'http://localhost:4200',
  scope: 'openid profile email roles offline_access dataEventRecords',
  apiUrl: `${apiOrigin}/api/DataEventRecords`,
  secureRoutes: [`${apiOrigin}/api/`],
};
