import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { EventTypes, PublicEventsService } from 'angular-auth-oidc-client';
import { NEVER, firstValueFrom, of, throwError } from 'rxjs';
import { FakeOidcSecurityService, alice, bob, provideFakeOidc } from '../../testing/fake-oidc';
import { RETURN_URL_KEY, SessionService, isLocalUrl, providerRefusal } from './session.service';

describe('SessionService', () => {
  let fake: FakeOidcSecurityService;

  function setup(): SessionService {
    TestBed.configureTestingModule({ providers: [provideRouter([]), provideFakeOidc(fake)] });
    return TestBed.inject(SessionService);
  }

  beforeEach(() => {
    sessionStorage.clear();
    fake = new FakeOidcSecurityService();
  });

  it('is signed out with no user, claims or roles by default', () => {
    const session = setup();
    expect(session.isAuthenticated()).toBe(false);
    expect(session.userName()).toBeNull();
    expect(session.claims()).toEqual([]);
    expect(session.roles()).toEqual([]);
    expect(session.isAdmin()).toBe(false);
  });

  it('exposes an admin user (roles as an array)', () => {
    fake.signIn(alice());
    const session = setup();
    expect(session.isAuthenticated()).toBe(true);
    expect(session.userName()).toBe('Alice Smith');
    expect(session.roles()).toEqual(['dataEventRecords.admin', 'dataEventRecords.user']);
    expect(session.isAdmin()).toBe(true);
    expect(session.claims().map((c) => c.name)).toContain('email');
  });

  it('exposes a read-only user (single role as a string)', () => {
    fake.signIn(bob());
    const session = setup();
    expect(session.userName()).toBe('bob');
    expect(session.roles()).toEqual(['dataEventRecords.user']);
    expect(session.isAdmin()).toBe(false);
  });

  it('follows sign-out', () => {
    fake.signIn(alice());
    const session = setup();
    fake.signOut();
    expect(session.isAuthenticated()).toBe(false);
    expect(session.isAdmin()).toBe(false);
    expect(session.userName()).toBeNull();
  });

  it('runs the library check once and shares the result', async () => {
    fake.signIn(bob());
    const session = setup();
    expect(await firstValueFrom(session.checkAuth())).toBe(true);
    expect(await firstValueFrom(session.checkAuth())).toBe(true);
    expect(fake.calls.filter((c) => c === 'checkAuth')).toHaveLength(1);
  });

  it('reports a failed callback without throwing', async () => {
    fake.checkAuthResponse = throwError(() => new Error('boom'));
    const session = setup();
    expect(await firstValueFrom(session.checkAuth())).toBe(false);
    expect(session.authError()).toContain('could not be reached');
  });

  it('keeps the library error message of a rejected sign-in', async () => {
    const session = setup();
    fake.checkAuthResponse = of({
      isAuthenticated: false,
      errorMessage: 'AuthCallback AuthResult came with error: access_denied',
      userData: null,
      accessToken: '',
      idToken: '',
    });
    expect(await firstValueFrom(session.checkAuth())).toBe(false);
    expect(session.authError()).toBe(
      'The sign-in could not be completed (AuthCallback AuthResult came with error: access_denied).',
    );
  });

  it('says so when a silent renew fails', () => {
    fake.signIn(alice());
    const session = setup();
    TestBed.inject(PublicEventsService).fireEvent(EventTypes.SilentRenewStarted);
    expect(session.authError()).toBeNull();
    TestBed.inject(PublicEventsService).fireEvent(
      EventTypes.SilentRenewFailed,
      new Error('invalid_grant'),
    );
    expect(session.authError()).toContain('could not be renewed');
  });

  it('renews the tokens on demand, and says so when that fails', () => {
    fake.signIn(alice());
    const session = setup();
    session.renew();
    expect(fake.calls).toEqual(['forceRefreshSession']);
    expect(session.authError()).toBeNull();

    fake.refreshResponse = throwError(() => new Error('invalid_grant'));
    session.renew();
    expect(session.authError()).toContain('could not be renewed');
  });

  describe('with the sign-in shared by the tabs', () => {
    const KEY = '0-angularclient';
    const stored = (entries: object) => JSON.stringify(entries);
    const fromAnotherTab = (oldValue: string | null, newValue: string | null) =>
      window.dispatchEvent(
        new StorageEvent('storage', { key: KEY, oldValue, newValue, storageArea: localStorage }),
      );

    it('signs out when another tab logged out', () => {
      fake.signIn(alice());
      const session = setup();
      const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
      fromAnotherTab(stored({ authnResult: { refresh_token: 'rt' } }), null);
      expect(fake.calls).toEqual(['logoffLocal']);
      expect(session.isAuthenticated()).toBe(false);
      expect(session.authError()).toContain('signed out in another tab');
      expect(navigate).toHaveBeenCalledWith('/');
    });

    it('stays signed in when another tab renewed the tokens', () => {
      fake.signIn(alice());
      const session = setup();
      fromAnotherTab(
        stored({ authnResult: { refresh_token: 'rt-1' } }),
        stored({ authnResult: { refresh_token: 'rt-2' } }),
      );
      expect(fake.calls).toEqual([]);
      expect(session.isAuthenticated()).toBe(true);
      expect(session.authError()).toBeNull();
    });

    it('ignores sessionStorage, which is this tab’s own', () => {
      fake.signIn(alice());
      setup();
      window.dispatchEvent(
        new StorageEvent('storage', {
          key: KEY,
          oldValue: stored({ authnResult: {} }),
          newValue: null,
          storageArea: sessionStorage,
        }),
      );
      expect(fake.calls).toEqual([]);
    });
  });

  it('gives up on a provider that never answers', async () => {
    vi.useFakeTimers();
    try {
      fake.checkAuthResponse = NEVER;
      const session = setup();
      const result = firstValueFrom(session.checkAuth());
      await vi.advanceTimersByTimeAsync(16_000);
      expect(await result).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('remembers a local return URL for after the login', () => {
    const session = setup();
    session.login('/dataeventrecords/7');
    expect(fake.calls).toContain('authorize');
    expect(session.consumeReturnUrl()).toBe('/dataeventrecords/7');
    expect(session.consumeReturnUrl()).toBe('/');
  });

  it('explains instead of doing nothing when the provider is down at login', () => {
    fake.providerDown = true;
    const session = setup();
    session.login('/');
    expect(fake.calls).not.toContain('authorize');
    expect(session.authError()).toContain('could not be reached');
  });

  it('never returns to another origin after the login', () => {
    const session = setup();
    for (const evil of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      session.login(evil);
      expect(session.consumeReturnUrl()).toBe('/');
      sessionStorage.setItem(RETURN_URL_KEY, evil);
      expect(session.consumeReturnUrl()).toBe('/');
    }
  });

  it('logs out with token revocation', () => {
    fake.signIn(alice());
    const session = setup();
    session.logout();
    expect(fake.calls).toEqual(['logoffAndRevokeTokens']);
  });

  it('still logs out at the provider when revocation fails', () => {
    fake.signIn(alice());
    fake.revokeFails = true;
    const session = setup();
    session.logout();
    expect(fake.calls).toEqual(['logoffAndRevokeTokens', 'logoff']);
  });

  it('drops the local session when the provider logout fails too', () => {
    fake.signIn(alice());
    fake.revokeFails = true;
    fake.logoff = () => throwError(() => new Error('no end_session_endpoint'));
    const session = setup();
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
    session.logout();
    expect(fake.calls).toEqual(['logoffAndRevokeTokens', 'logoffLocal']);
    expect(session.isAuthenticated()).toBe(false);
    expect(navigate).toHaveBeenCalledWith('/');
  });
});

describe('isLocalUrl', () => {
  it('accepts app paths only', () => {
    expect(isLocalUrl('/')).toBe(true);
    expect(isLocalUrl('/dataeventrecords?x=1')).toBe(true);
    expect(isLocalUrl('//evil.example')).toBe(false);
    expect(isLocalUrl('/\\evil.example')).toBe(false);
    expect(isLocalUrl('http://localhost:4200/')).toBe(false);
    expect(isLocalUrl('')).toBe(false);
  });
});

describe('providerRefusal', () => {
  it('explains an error sent back by the provider', () => {
    expect(
      providerRefusal(
        '?error=access_denied&error_description=The%20user%20denied%20consent.&state=x',
      ),
    ).toBe('The sign-in was cancelled or refused: The user denied consent. (access_denied).');
    expect(providerRefusal('?error=invalid_scope&state=x')).toBe(
      'The provider refused the sign-in: (invalid_scope).',
    );
  });

  it('is null for a normal callback or page', () => {
    expect(providerRefusal('?code=abc&state=x')).toBeNull();
    expect(providerRefusal('')).toBeNull();
  });
});
