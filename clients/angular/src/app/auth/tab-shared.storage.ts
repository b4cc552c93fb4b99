import { Injectable } from '@angular/core';
import { AbstractSecurityStorage } from 'angular-auth-oidc-client';

/**
 * The library's entries that are the sign-in itself: the tokens, their expiry and the user's data. They are
 * kept in localStorage, so all the tabs of the app share one sign-in and one refresh token. Every other entry
 * belongs to a flow running in one tab (the PKCE verifier, `state` and nonce of a login or a renewal, the
 * "renewal running" flag, the discovery cache) and stays in that tab's sessionStorage.
 */
export const SHARED_ENTRIES: readonly string[] = [
  'authnResult',
  'authzData',
  'access_token_expires_at',
  'userData',
  'reusable_refresh_token',
  'session_state',
];

/**
 * Where angular-auth-oidc-client keeps its state: one sign-in for all the tabs of the app, one flow per tab.
 *
 * The library keeps everything under one key, as one JSON object. Sharing that object whole (its
 * DefaultLocalStorageService) breaks two tabs that renew at the same moment: the provider answers both, but
 * the tab that is done first clears the `state` that the other tab then checks its answer against, so that
 * tab rejects its own valid answer and signs both tabs out. Here each write is split: the entries of
 * {@link SHARED_ENTRIES} go to localStorage, the others to sessionStorage, and a read merges them. Two tabs
 * that renew together send the same refresh token, and the provider gives both the same successor (its
 * refresh-token reuse leeway).
 *
 * Security trade-off: in localStorage the refresh token outlives the tab. Closing the tab no longer ends the
 * sign-in, only a logout does (or the refresh token's lifetime at the provider), so on a shared computer the
 * next person finds it. Script injected into the page could read the tokens in either storage.
 */
@Injectable({ providedIn: 'root' })
export class TabSharedStorage implements AbstractSecurityStorage {
  read(key: string): string | null {
    const shared = readObject(localStorage, key);
    const own = readObject(sessionStorage, key);
    return shared === null && own === null ? null : JSON.stringify({ ...own, ...shared });
  }

  write(key: string, value: string): void {
    const entries = parseObject(value) ?? {};
    const shared: Record<string, unknown> = {};
    const own: Record<string, unknown> = {};
    // The shared part in a fixed order, so an unchanged sign-in is written as the very same text.
    for (const name of SHARED_ENTRIES) {
      if (name in entries) {
        shared[name] = entries[name];
      }
    }
    for (const [name, entry] of Object.entries(entries)) {
      if (!SHARED_ENTRIES.includes(name)) {
        own[name] = entry;
      }
    }
    writeObject(sessionStorage, key, own);
    // To change one entry of this tab's flow, the library writes back the whole object: the sign-in is only
    // written when this tab changed it, never rewritten from a copy older than another tab's.
    writeObject(localStorage, key, shared);
  }

  remove(key: string): void {
    localStorage.removeItem(key);
    sessionStorage.removeItem(key);
  }

  clear(): void {
    localStorage.clear();
    sessionStorage.clear();
  }
}

/** Whether a value the library stored (e.g. the old or new value of a `storage` event) holds a sign-in. */
export function holdsSignIn(value: string | null): boolean {
  return parseObject(value)?.['authnResult'] != null;
}

function readObject(storage: Storage, key: string): Record<string, unknown> | null {
  return parseObject(storage.getItem(key));
}

/** Stores `entries` as JSON, or removes the key when there are none; leaves an unchanged text alone. */
function writeObject(storage: Storage, key: string, entries: Record<string, unknown>): void {
  const text = Object.keys(entries).length > 0 ? JSON.stringify(entries) : null;
  if (storage.getItem(key) === text) {
    return;
  }
  if (text === null) {
    storage.removeItem(key);
  } else {
    storage.setItem(key, text);
  }
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (!text) {
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
