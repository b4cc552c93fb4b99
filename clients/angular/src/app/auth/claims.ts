import { Claims } from './roles';

/** One row of the claims table on the home page. */
export interface ClaimRow {
  readonly name: string;
  readonly value: string;
  /** Where the claim was seen: the ID token, the userinfo response, or both with the same value. */
  readonly source: 'ID token' | 'userinfo' | 'ID token, userinfo';
}

/** Claims holding a NumericDate (seconds since the epoch): shown with a readable UTC date too. */
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

/**
 * The claims of the ID token followed by those of the userinfo response, as rows for a table. A claim that
 * both carry with the same value is listed once; one whose values differ is listed once per source.
 */
export function claimRows(idToken: Claims | null, userInfo: Claims | null): ClaimRow[] {
  const rows: ClaimRow[] = [];
  const fromUserInfo = new Map(
    Object.entries(userInfo ?? {}).map(([k, v]) => [k, formatClaim(k, v)]),
  );
  for (const [name, raw] of Object.entries(idToken ?? {})) {
    const value = formatClaim(name, raw);
    const same = fromUserInfo.get(name) === value;
    if (same) {
      fromUserInfo.delete(name);
    }
    rows.push({ name, value, source: same ? 'ID token, userinfo' : 'ID token' });
  }
  for (const [name, value] of fromUserInfo) {
    rows.push({ name, value, source: 'userinfo' });
  }
  return rows;
}

/** A claim value as text: arrays joined, objects as JSON, NumericDates with their UTC date. */
export function formatClaim(name: string, value: unknown): string {
  if (typeof value === 'number' && TIME_CLAIMS.has(name) && Number.isFinite(value)) {
    const date = new Date(value * 1000);
    if (!Number.isNaN(date.getTime())) {
      return `${value} (${date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, ' UTC')})`;
    }
  }
  if (Array.isArray(value)) {
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  }
  if (value !== null && typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** The best display name in the claim sets: `name`, then `preferred_username`, `email`, finally `sub`. */
export function displayName(...claimSets: readonly (Claims | null | undefined)[]): string | null {
  for (const key of ['name', 'preferred_username', 'email', 'sub']) {
    for (const claims of claimSets) {
      const value = claims?.[key];
      if (typeof value === 'string' && value.trim()) {
        return value.trim();
      }
    }
  }
  return null;
}
