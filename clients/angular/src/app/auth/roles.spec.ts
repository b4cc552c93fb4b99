import { ADMIN_ROLE, hasRole, rolesFrom } from './roles';

describe('rolesFrom', () => {
  it('reads a single role sent as a string', () => {
    expect(rolesFrom({ role: 'dataEventRecords.user' })).toEqual(['dataEventRecords.user']);
  });

  it('reads several roles sent as an array', () => {
    expect(rolesFrom({ role: ['dataEventRecords.admin', 'dataEventRecords.user'] })).toEqual([
      'dataEventRecords.admin',
      'dataEventRecords.user',
    ]);
  });

  it('returns no roles when the claim is missing, null, empty, or the claims are absent', () => {
    expect(rolesFrom({ sub: 'x' })).toEqual([]);
    expect(rolesFrom({ role: null })).toEqual([]);
    expect(rolesFrom({ role: [] })).toEqual([]);
    expect(rolesFrom({ role: '' })).toEqual([]);
    expect(rolesFrom(null, undefined)).toEqual([]);
    expect(rolesFrom()).toEqual([]);
  });

  it('ignores entries that are not strings and trims blanks', () => {
    expect(rolesFrom({ role: ['a', 42, null, { x: 1 }, '  ', ' b '] })).toEqual(['a', 'b']);
    expect(rolesFrom({ role: 7 })).toEqual([]);
  });

  it('merges the ID token and userinfo without duplicates, keeping order', () => {
    expect(
      rolesFrom(
        { role: 'dataEventRecords.user' },
        { role: ['dataEventRecords.admin', 'dataEventRecords.user'] },
      ),
    ).toEqual(['dataEventRecords.user', 'dataEventRecords.admin']);
  });

  it('also accepts a `roles` claim', () => {
    expect(rolesFrom({ roles: ['x'], role: 'y' })).toEqual(['y', 'x']);
  });
});

describe('hasRole', () => {
  it('is exact and case-sensitive', () => {
    expect(hasRole(['dataEventRecords.admin'], ADMIN_ROLE)).toBe(true);
    expect(hasRole(['dataeventrecords.admin'], ADMIN_ROLE)).toBe(false);
    expect(hasRole(['dataEventRecords.administrator'], ADMIN_ROLE)).toBe(false);
    expect(hasRole([], ADMIN_ROLE)).toBe(false);
  });
});
