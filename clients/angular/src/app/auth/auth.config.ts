import { isDevMode } from '@angular/core';
import { LogLevel, PassedInitialConfig } from 'angular-auth-oidc-client';
import { environment } from '../../environments/environment';

/**
 * The one OIDC client configuration of the SPA: authorization code flow with PKCE, tokens renewed with the
 * refresh token (no hidden iframes), user info fetched from the provider's userinfo endpoint.
 */
export const authConfig: PassedInitialConfig = {
  config: {
    authority: environment.authority,
    clientId: environment.clientId,
    redirectUrl: environment.redirectUrl,
    postLogoutRedirectUri: environment.postLogoutRedirectUri,
    scope: environment.scope,
    responseType: 'code',
    // Renew with the refresh token shortly before the access token expires; never with an iframe.
    silentRenew: true,
    useRefreshToken: true,
    renewTimeBeforeTokenExpiresInSeconds: 30,
    // An ID token returned by a refresh carries no nonce (OpenID Connect Core 12.2).
    ignoreNonceAfterRefresh: true,
    // The app navigates itself after the callback (to the page the user wanted), see CallbackPage.
    triggerAuthorizationResultEvent: true,
    postLoginRoute: '/',
    unauthorizedRoute: '/unauthorized',
    forbiddenRoute: '/forbidden',
    autoUserInfo: true,
    // Declared for the library; the header itself is added by apiAuthInterceptor with a strict prefix match.
    secureRoutes: [...environment.secureRoutes],
    // Off in production builds; warnings and errors while developing.
    logLevel: isDevMode() ? LogLevel.Warn : LogLevel.None,
  },
};
