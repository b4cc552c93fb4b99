import { HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { OidcSecurityService } from 'angular-auth-oidc-client';
import { switchMap, take } from 'rxjs';
import { environment } from '../../environments/environment';

/**
 * Whether a request URL may carry the access token: only when it starts with one of the configured
 * secure routes (full origin and path prefix, e.g. `http://localhost:44390/api/`). Relative URLs, the
 * provider and any other origin never match, so the token cannot leak to them.
 */
export function isSecureUrl(
  url: string,
  secureRoutes: readonly string[] = environment.secureRoutes,
): boolean {
  return secureRoutes.some((route) => route.length > 0 && url.startsWith(route));
}

/** Adds `Authorization: Bearer <access token>` to requests for the API, and to nothing else. */
export const apiAuthInterceptor: HttpInterceptorFn = (req, next) => {
  if (!isSecureUrl(req.url) || req.headers.has('Authorization')) {
    return next(req);
  }
  return inject(OidcSecurityService)
    .getAccessToken()
    .pipe(
      take(1),
      switchMap((token) =>
        next(token ? req.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : req),
      ),
    );
};
