import { DOCUMENT, Injectable, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { Router } from '@angular/router';
import { EventTypes, OidcSecurityService, PublicEventsService } from 'angular-auth-oidc-client';
import {
  Observable,
  catchError,
  defer,
  filter,
  fromEvent,
  map,
  merge,
  of,
  shareReplay,
  switchMap,
  timeout,
} from 'rxjs';
import { environment } from '../../environments/environment';
import { ClaimRow, claimRows, displayName } from './claims';
import { ADMIN_ROLE, Claims, hasRole, rolesFrom } from './roles';
import { holdsSignIn } from './tab-shared.storage';

/** Where the page the user wanted is kept while the browser visits the provider. */
export const RETURN_URL_KEY = 'portcullis.returnUrl';

const RENEW_FAILED = 'Your session could not be renewed. Please log in again to continue.';

/** An unreachable provider must not keep the app from starting: give up on the first check after this. */
const AUTH_CHECK_TIMEOUT_MS = 15_000;

/**
 * The signed-in user as the rest of the app sees it: state as signals, and the login / logout actions.
 * Only this service and the HTTP interceptor talk to the OIDC library.
 */
@Injectable({ providedIn: 'root' })
export class SessionService {
  private readonly oidc = inject(OidcSecurityService);
  private readonly router = inject(Router);
  private readonly document = inject(DOCUMENT);

  readonly isAuthenticated = toSignal(
    this.oidc.isAuthenticated$.pipe(map((r) => r.isAuthenticated)),
    { initialValue: false },
  );

  private readonly userData = toSignal(
    this.oidc.userData$.pipe(map((r) => asClaims(r?.userData))),
    { initialValue: null },
  );

  // Re-read on every auth event and user data change, so a refreshed ID token is picked up.
  private readonly idTokenPayload = toSignal(
    merge(this.oidc.isAuthenticated$, this.oidc.userData$).pipe(
      switchMap(() => this.oidc.getPayloadFromIdToken().pipe(catchError(() => of(null)))),
      map(asClaims),
    ),
    { initialValue: null },
  );

  /** Claims of the current ID token, or null when signed out. */
  readonly idTokenClaims = computed(() => (this.isAuthenticated() ? this.idTokenPayload() : null));
  /** The provider's userinfo response, or null when signed out. */
  readonly userInfo = computed(() => (this.isAuthenticated() ? this.userData() : null));
  readonly claims = computed<ClaimRow[]>(() => claimRows(this.idTokenClaims(), this.userInfo()));
  readonly roles = computed(() => rolesFrom(this.idTokenClaims(), this.userInfo()));
  readonly isAdmin = computed(() => hasRole(this.roles(), ADMIN_ROLE));
  readonly userName = computed(() =>
    this.isAuthenticated()
      ? (displayName(this.userInfo(), this.idTokenClaims()) ?? 'Signed-in user')
      : null,
  );

  private readonly authErrorState = signal<string | null>(null);
  /** Why the last sign-in attempt failed, or why the provider could not be reached; null if all is well. */
  readonly authError = this.authErrorState.asReadonly();

  /**
   * Runs the library's check once (it also redeems the authorization code on `/callback`) and replays the
   * outcome to every later caller: the app initializer, the guards, the callback page.
   */
  private readonly authCheck$: Observable<boolean> = defer(() => {
    // Read before the library looks at (and may clean) the URL: an error the provider sent back.
    const refusal = providerRefusal(this.document.location?.search ?? '');
    return this.oidc.checkAuth().pipe(
      timeout(AUTH_CHECK_TIMEOUT_MS),
      map((response) => {
        if (!response.isAuthenticated && (refusal || response.errorMessage)) {
          this.authErrorState.set(
            refusal ?? `The sign-in could not be completed (${response.errorMessage}).`,
          );
        }
        return response.isAuthenticated;
      }),
    );
  }).pipe(
    catchError(() => {
      this.authErrorState.set(unreachable());
      return of(false);
    }),
    shareReplay(1),
  );

  constructor() {
    // A failed refresh (refresh token expired or revoked, provider down) ends the session: say so,
    // rather than leaving the user wondering why they are suddenly signed out.
    inject(PublicEventsService)
      .registerForEvents()
      .pipe(
        filter((event) => event.type === EventTypes.SilentRenewFailed),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.authErrorState.set(RENEW_FAILED));

    // The tabs share one sign-in (TabSharedStorage). When another tab drops it (a logout there, or a renewal
    // the provider refused), this tab signs out too, rather than showing a session it no longer has.
    const window = this.document.defaultView;
    if (window) {
      fromEvent<StorageEvent>(window, 'storage')
        .pipe(
          filter(
            (event) =>
              event.storageArea === window.localStorage &&
              holdsSignIn(event.oldValue) &&
              !holdsSignIn(event.newValue),
          ),
          takeUntilDestroyed(),
        )
        .subscribe(() => {
          if (this.isAuthenticated()) {
            this.oidc.logoffLocal();
            this.authErrorState.set('You were signed out in another tab.');
            void this.router.navigateByUrl('/');
          }
        });
    }
  }

  /** Emits once whether the user is signed in, after the startup check has finished. Never errors. */
  checkAuth(): Observable<boolean> {
    return this.authCheck$;
  }

  /**
   * Renews the tokens now with the refresh token, as the library does by itself shortly before the access
   * token expires. Tabs that do so at the same moment all get the same new refresh token from the provider.
   */
  renew(): void {
    this.oidc.forceRefreshSession().subscribe({
      next: (response) => {
        if (!response?.isAuthenticated) {
          this.authErrorState.set(RENEW_FAILED);
        }
      },
      error: () => this.authErrorState.set(RENEW_FAILED),
    });
  }

  /** Sends the browser to the provider's login; after the callback the app goes to `returnUrl`. */
  login(returnUrl?: string): void {
    if (returnUrl && isLocalUrl(returnUrl)) {
      sessionStorage.setItem(RETURN_URL_KEY, returnUrl);
    } else {
      sessionStorage.removeItem(RETURN_URL_KEY);
    }
    // The library's authorize() fails silently when the provider is down: check its discovery first.
    this.oidc.preloadAuthWellKnownDocument().subscribe({
      next: () => {
        this.authErrorState.set(null);
        this.oidc.authorize();
      },
      error: () => this.authErrorState.set(unreachable()),
    });
  }

  /** The page stored by `login`, once: a local path only, never another origin (no open redirect). */
  consumeReturnUrl(): string {
    const stored = sessionStorage.getItem(RETURN_URL_KEY);
    sessionStorage.removeItem(RETURN_URL_KEY);
    return stored && isLocalUrl(stored) ? stored : '/';
  }

  /**
   * Revokes the refresh and access tokens, then ends the provider session (RP-initiated logout, which
   * comes back to the post-logout redirect URI). If revocation fails the provider logout still happens;
   * if that fails too, the local session is dropped and the app goes home.
   */
  logout(): void {
    this.oidc
      .logoffAndRevokeTokens()
      .pipe(
        catchError(() => this.oidc.logoff()),
        catchError(() => {
          this.oidc.logoffLocal();
          void this.router.navigateByUrl('/');
          return of(null);
        }),
      )
      .subscribe();
  }
}

/** A path inside this app: starts with one `/` and no `//` or `/\` (which browsers read as another host). */
export function isLocalUrl(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\');
}

function unreachable(): string {
  return `The sign-in service at ${environment.authority} could not be reached. Please try again later.`;
}

/**
 * The error an authorization response carries (RFC 6749 §4.1.2.1), as a sentence, or null. The text comes
 * from the URL, so it is only ever shown as text (Angular escapes interpolations).
 */
export function providerRefusal(search: string): string | null {
  const params = new URLSearchParams(search);
  const error = params.get('error');
  if (!error) {
    return null;
  }
  const description = params.get('error_description')?.slice(0, 300);
  const reason =
    error === 'access_denied'
      ? 'The sign-in was cancelled or refused'
      : 'The provider refused the sign-in';
  return `${reason}: ${description ? `${description} ` : ''}(${error.slice(0, 100)}).`;
}

function asClaims(value: unknown): Claims | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Claims)
    : null;
}
