import { SHARED_ENTRIES, TabSharedStorage, holdsSignIn } from './tab-shared.storage';

const KEY = '0-angularclient';

/** What the library stores for a signed-in tab in the middle of a renewal. */
function signedIn(refreshToken = 'rt-1'): Record<string, unknown> {
  return {
    authWellKnownEndPoints: { tokenEndpoint: 'http://localhost:44319/connect/token' },
    authnResult: { refresh_token: refreshToken, id_token: 'id', access_token: 'at' },
    authzData: 'at',
    access_token_expires_at: 1_800_000_000_000,
    userData: { sub: 'alice-id' },
    authStateControl: 'state-of-this-tab',
    authNonce: 'nonce-of-this-tab',
    storageSilentRenewRunning: '{"state":"running"}',
  };
}

describe('TabSharedStorage', () => {
  let storage: TabSharedStorage;

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    storage = new TabSharedStorage();
  });

  afterEach(() => vi.restoreAllMocks());

  it('keeps the sign-in in localStorage and the flow of this tab in sessionStorage', () => {
    storage.write(KEY, JSON.stringify(signedIn()));

    const shared = JSON.parse(localStorage.getItem(KEY)!);
    expect(Object.keys(shared)).toEqual([
      'authnResult',
      'authzData',
      'access_token_expires_at',
      'userData',
    ]);
    expect(Object.keys(shared).every((name) => SHARED_ENTRIES.includes(name))).toBe(true);
    expect(Object.keys(JSON.parse(sessionStorage.getItem(KEY)!)).sort()).toEqual([
      'authNonce',
      'authStateControl',
      'authWellKnownEndPoints',
      'storageSilentRenewRunning',
    ]);
    expect(JSON.parse(storage.read(KEY)!)).toEqual(signedIn());
  });

  it('gives another tab the sign-in but not this tab’s state, nonce or renewal flag', () => {
    storage.write(KEY, JSON.stringify(signedIn()));
    sessionStorage.clear(); // another tab: same localStorage, its own sessionStorage

    const seen = JSON.parse(storage.read(KEY)!);
    expect(seen.authnResult.refresh_token).toBe('rt-1');
    expect(seen.authStateControl).toBeUndefined();
    expect(seen.authNonce).toBeUndefined();
    expect(seen.storageSilentRenewRunning).toBeUndefined();
  });

  it('does not write the sign-in back when only this tab’s flow changed', () => {
    storage.write(KEY, JSON.stringify(signedIn()));
    const setItem = vi.spyOn(Storage.prototype, 'setItem');

    // As the library changes one entry: read the whole object, change it, write it back.
    const entries = JSON.parse(storage.read(KEY)!);
    entries.storageSilentRenewRunning = '';
    storage.write(KEY, JSON.stringify(entries));

    expect(setItem.mock.contexts.filter((area) => area === localStorage)).toHaveLength(0);
    expect(JSON.parse(sessionStorage.getItem(KEY)!).storageSilentRenewRunning).toBe('');
  });

  it('shares a renewed sign-in with the other tabs', () => {
    storage.write(KEY, JSON.stringify(signedIn('rt-1')));
    storage.write(KEY, JSON.stringify(signedIn('rt-2')));
    expect(JSON.parse(localStorage.getItem(KEY)!).authnResult.refresh_token).toBe('rt-2');
  });

  it('signs every tab out when the sign-in is dropped, and forgets everything on remove', () => {
    storage.write(KEY, JSON.stringify(signedIn()));
    storage.write(KEY, JSON.stringify({ authStateControl: 'state-of-this-tab' }));
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(storage.read(KEY)).toBe('{"authStateControl":"state-of-this-tab"}');

    storage.remove(KEY);
    expect(storage.read(KEY)).toBeNull();
    expect(sessionStorage.getItem(KEY)).toBeNull();
  });

  it('reads nothing from entries that are not the library’s JSON', () => {
    localStorage.setItem(KEY, 'not json');
    expect(storage.read(KEY)).toBeNull();
  });
});

describe('holdsSignIn', () => {
  it('is true for a stored value with an authentication result only', () => {
    expect(holdsSignIn(JSON.stringify({ authnResult: { id_token: 'id' } }))).toBe(true);
    expect(holdsSignIn(JSON.stringify({ authStateControl: 'x' }))).toBe(false);
    expect(holdsSignIn(JSON.stringify({ authnResult: null }))).toBe(false);
    expect(holdsSignIn(null)).toBe(false);
    expect(holdsSignIn('[]')).toBe(false);
  });
});
