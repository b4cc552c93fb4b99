import { Provider } from '@angular/core';
import {
  AuthenticatedResult,
  LoginResponse,
  OidcSecurityService,
  UserDataResult,
} from 'angular-auth-oidc-client';
import { BehaviorSubject, Observable, of, throwError } from 'rxjs';

/** What a fake session holds: a signed-in user is one with an access token. */
export interface FakeUser {
  accessToken?: string;
  idTokenClaims?: Record<string, unknown>;
  userInfo?: Record<string, unknown> | null;
}

/**
 * A stand-in for the library's OidcSecurityService: the members the app uses, no storage, no network.
 * `signIn` / `signOut` change the state as the library's events would.
 */
export class FakeOidcSecurityService {
  readonly authenticated$ = new BehaviorSubject<AuthenticatedResult>(notAuthenticated());
  readonly userData$$ = new BehaviorSubject<UserDataResult>({ userData: null, allUserData: [] });
  accessToken = '';
  idTokenClaims: Record<string, unknown> | null = null;
  checkAuthResponse: Observable<LoginResponse> | null = null;

  readonly authorizeCalls: unknown[][] = [];
  readonly calls: string[] = [];
  revokeFails = false;

  constructor(user?: FakeUser) {
    if (user) {
      this.signIn(user);
    }
  }

  get isAuthenticated$(): Observable<AuthenticatedResult> {
    return this.authenticated$.asObservable();
  }

  get userData$(): Observable<UserDataResult> {
    return this.userData$$.asObservable();
  }

  signIn(user: FakeUser): void {
    this.accessToken = user.accessToken ?? 'fake-access-token';
    this.idTokenClaims = user.idTokenClaims ?? { sub: 'fake-sub' };
    this.userData$$.next({ userData: user.userInfo ?? null, allUserData: [] });
    this.authenticated$.next({
      isAuthenticated: true,
      allConfigsAuthenticated: [{ configId: '0-angularclient', isAuthenticated: true }],
    });
  }

  signOut(): void {
    this.accessToken = '';
    this.idTokenClaims = null;
    this.userData$$.next({ userData: null, allUserData: [] });
    this.authenticated$.next(notAuthenticated());
  }

  checkAuth(): Observable<LoginResponse> {
    this.calls.push('checkAuth');
    return (
      this.checkAuthResponse ??
      of({
        isAuthenticated: this.authenticated$.value.isAuthenticated,
        userData: this.userData$$.value.userData,
        accessToken: this.accessToken,
        idToken: this.accessToken ? 'fake-id-token' : '',
      })
    );
  }

  getAccessToken(): Observable<string> {
    return of(this.accessToken);
  }

  getPayloadFromIdToken(): Observable<unknown> {
    return of(this.idTokenClaims);
  }

  providerDown = false;

  preloadAuthWellKnownDocument(): Observable<unknown> {
    this.calls.push('preloadAuthWellKnownDocument');
    return this.providerDown ? throwError(() => new Error('Http failure response: 0')) : of({});
  }

  authorize(...args: unknown[]): void {
    this.calls.push('authorize');
    this.authorizeCalls.push(args);
  }

  /** What forceRefreshSession answers; by default the session as it is. */
  refreshResponse: Observable<LoginResponse> | null = null;

  forceRefreshSession(): Observable<LoginResponse> {
    this.calls.push('forceRefreshSession');
    return (
      this.refreshResponse ??
      of({
        isAuthenticated: this.authenticated$.value.isAuthenticated,
        userData: this.userData$$.value.userData,
        accessToken: this.accessToken,
        idToken: this.accessToken ? 'fake-id-token' : '',
      })
    );
  }

  logoffAndRevokeTokens(): Observable<unknown> {
    this.calls.push('logoffAndRevokeTokens');
    return this.revokeFails ? throwError(() => new Error('revoke token failed')) : of(null);
  }

  logoff(): Observable<unknown> {
    this.calls.push('logoff');
    return of(null);
  }

  logoffLocal(): void {
    this.calls.push('logoffLocal');
    this.signOut();
  }
}

function notAuthenticated(): AuthenticatedResult {
  return { isAuthenticated: false, allConfigsAuthenticated: [] };
}

/** Provides `fake` in place of the library's OidcSecurityService. */
export function provideFakeOidc(fake: FakeOidcSecurityService): Provider {
  return { provide: OidcSecurityService, useValue: fake };
}

/** Alice of the demo data: both dataEventRecords roles, the roles as an array. */
export function alice(): FakeUser {
  return {
    accessToken: 'alice-access-token',
    idTokenClaims: {
      iss: 'http://localhost:44319',
      sub: 'alice-id',
      aud: 'angularclient',
      exp: 1_800_000_000,
      role: ['dataEventRecords.admin', 'dataEventRecords.user'],
    },
    userInfo: {
      sub: 'alice-id',
      name: 'Alice Smith',
      email: 'alice@example.com',
      email_verified: true,
      role: ['dataEventRecords.admin', 'dataEventRecords.user'],
    },
  };
}

/** Bob of the demo data: read-only, his single role as a string. */
export function bob(): FakeUser {
  return {
    accessToken: 'bob-access-token',
    idTokenClaims: {
      iss: 'http://localhost:44319',
      sub: 'bob-id',
      aud: 'angularclient',
      role: 'dataEventRecords.user',
    },
    userInfo: {
      sub: 'bob-id',
      preferred_username: 'bob',
      email: 'bob@example.com',
      role: 'dataEventRecords.user',
    },
  };
}
