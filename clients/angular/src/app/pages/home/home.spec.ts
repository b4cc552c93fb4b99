import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { FakeOidcSecurityService, alice, bob, provideFakeOidc } from '../../../testing/fake-oidc';
import { HomePage } from './home';

describe('HomePage', () => {
  let fake: FakeOidcSecurityService;
  let fixture: ComponentFixture<HomePage>;
  let page: HTMLElement;

  async function render(): Promise<void> {
    TestBed.configureTestingModule({
      imports: [HomePage],
      providers: [provideRouter([]), provideFakeOidc(fake)],
    });
    fixture = TestBed.createComponent(HomePage);
    page = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  }

  const byTestId = (id: string) => page.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`);

  beforeEach(() => {
    sessionStorage.clear();
    fake = new FakeOidcSecurityService();
  });

  it('welcomes a signed-out visitor with a login button that starts the code flow', async () => {
    await render();
    expect(byTestId('welcome')).toHaveLength(1);
    expect(byTestId('logout-button')).toHaveLength(0);
    expect(byTestId('claims-table')).toHaveLength(0);

    byTestId('login-button')[0].click();
    expect(fake.calls).toContain('authorize');
  });

  it("shows the signed-in user's name, roles as chips and the claims table", async () => {
    fake.signIn(alice());
    await render();

    expect(byTestId('login-button')).toHaveLength(0);
    expect(byTestId('user-name')[0].textContent?.trim()).toBe('Alice Smith');
    expect([...byTestId('role-chip')].map((c) => c.textContent?.trim())).toEqual([
      'dataEventRecords.admin',
      'dataEventRecords.user',
    ]);

    const table = byTestId('claims-table')[0];
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent?.trim());
    expect(headers).toEqual(['Claim', 'Value', 'Source']);
    const email = table.querySelector('tr[data-claim="email"]');
    expect(email?.textContent).toContain('alice@example.com');
    expect(email?.textContent).toContain('userinfo');
    const iss = table.querySelector('tr[data-claim="iss"]');
    expect(iss?.textContent).toContain('http://localhost:44319');
    expect(iss?.textContent).toContain('ID token');
  });

  it('shows a single string role as one chip', async () => {
    fake.signIn(bob());
    await render();
    expect([...byTestId('role-chip')].map((c) => c.textContent?.trim())).toEqual([
      'dataEventRecords.user',
    ]);
  });

  it('says so when the user has no roles', async () => {
    fake.signIn({ idTokenClaims: { sub: 'carol' }, userInfo: { sub: 'carol', name: 'Carol' } });
    await render();
    expect(byTestId('role-chip')).toHaveLength(0);
    expect(byTestId('no-roles')).toHaveLength(1);
  });

  it('renews the tokens from the renew button', async () => {
    fake.signIn(alice());
    await render();
    byTestId('renew-button')[0].click();
    expect(fake.calls).toContain('forceRefreshSession');
  });

  it('logs out from the logout button', async () => {
    fake.signIn(alice());
    await render();
    byTestId('logout-button')[0].click();
    expect(fake.calls).toContain('logoffAndRevokeTokens');
  });
});
