import { claimRows, displayName, formatClaim } from './claims';

describe('claimRows', () => {
  it('lists ID token claims, then claims only userinfo has; equal values once', () => {
    const rows = claimRows(
      { sub: 'alice-id', iss: 'http://localhost:44319' },
      { sub: 'alice-id', email: 'alice@example.com' },
    );
    expect(rows).toEqual([
      { name: 'sub', value: 'alice-id', source: 'ID token, userinfo' },
      { name: 'iss', value: 'http://localhost:44319', source: 'ID token' },
      { name: 'email', value: 'alice@example.com', source: 'userinfo' },
    ]);
  });

  it('lists a claim twice when the two sources disagree', () => {
    const rows = claimRows({ name: 'Old' }, { name: 'New' });
    expect(rows).toEqual([
      { name: 'name', value: 'Old', source: 'ID token' },
      { name: 'name', value: 'New', source: 'userinfo' },
    ]);
  });

  it('is empty without claims', () => {
    expect(claimRows(null, null)).toEqual([]);
  });
});

describe('formatClaim', () => {
  it('shows NumericDate claims with their UTC date', () => {
    expect(formatClaim('exp', 1_700_000_000)).toBe('1700000000 (2023-11-14 22:13:20 UTC)');
  });

  it('leaves other numbers alone', () => {
    expect(formatClaim('age', 42)).toBe('42');
  });

  it('joins arrays and prints objects as JSON', () => {
    expect(formatClaim('role', ['a', 'b'])).toBe('a, b');
    expect(formatClaim('address', { country: 'FR' })).toBe('{"country":"FR"}');
    expect(formatClaim('email_verified', true)).toBe('true');
  });
});

describe('displayName', () => {
  it('prefers name, then preferred_username, email, sub', () => {
    expect(displayName({ sub: 's', name: 'Alice' })).toBe('Alice');
    expect(displayName({ sub: 's', preferred_username: 'bob' })).toBe('bob');
    expect(displayName({ sub: 's', email: 'e@example.com' })).toBe('e@example.com');
    expect(displayName({ sub: 's' })).toBe('s');
    expect(displayName(null, {})).toBeNull();
  });

  it('takes a better claim from a later set over a worse one from an earlier set', () => {
    expect(displayName({ sub: 's' }, { name: 'Alice' })).toBe('Alice');
  });
});
