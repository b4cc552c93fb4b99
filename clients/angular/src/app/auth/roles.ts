/** The role that may create, edit and delete data event records. */
export const ADMIN_ROLE = 'dataEventRecords.admin';

/** A claim set as it comes out of a decoded token or the userinfo response. */
export type Claims = Record<string, unknown>;

/**
 * The roles found in the `role` (or `roles`) claim of any of the given claim sets.
 *
 * A provider sends a single role as a string and several as an array; a missing claim means no role.
 * Non-string entries and blanks are ignored, duplicates removed, and the first-seen order kept.
 */
export function rolesFrom(...claimSets: readonly (Claims | null | undefined)[]): string[] {
  const roles = new Set<string>();
  for (const claims of claimSets) {
    if (!claims) {
      continue;
    }
    for (const name of ['role', 'roles']) {
      for (const role of asStrings(claims[name])) {
        roles.add(role);
      }
    }
  }
  return [...roles];
}

/** Whether `roles` contains `role` (exact, case-sensitive: role names are identifiers). */
export function hasRole(roles: readonly string[], role: string): boolean {
  return roles.includes(role);
}

function asStrings(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}
