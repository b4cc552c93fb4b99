import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { FakeOidcSecurityService, alice, provideFakeOidc } from '../testing/fake-oidc';
import { App } from './app';

describe('App shell', () => {
  let fake: FakeOidcSecurityService;

  async function render(): Promise<HTMLElement> {
    TestBed.configureTestingModule({
      imports: [App],
      providers: [provideRouter([]), provideFakeOidc(fake)],
    });
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  beforeEach(() => {
    sessionStorage.clear();
    fake = new FakeOidcSecurityService();
  });

  it('has the app name, a main landmark and a skip link', async () => {
    const page = await render();
    expect(page.querySelector('header .brand')?.textContent).toContain('Portcullis demo');
    expect(page.querySelector('nav[aria-label="Main"]')).not.toBeNull();
    expect(page.querySelector('main#main')).not.toBeNull();
    expect(page.querySelector('a.skip-link')?.getAttribute('href')).toBe('#main');
  });

  it('the skip link focuses the main landmark without navigating', async () => {
    const page = await render();
    document.body.appendChild(page);
    try {
      const link = page.querySelector('a.skip-link') as HTMLAnchorElement;
      const event = new MouseEvent('click', { bubbles: true, cancelable: true });
      link.dispatchEvent(event);
      expect(event.defaultPrevented).toBe(true);
      expect(document.activeElement?.id).toBe('main');
    } finally {
      page.remove();
    }
  });

  it('offers login when signed out', async () => {
    const page = await render();
    expect(page.querySelector('[data-testid="topbar-user-name"]')).toBeNull();
    (page.querySelector('[data-testid="topbar-login-button"]') as HTMLButtonElement).click();
    expect(fake.calls).toContain('authorize');
  });

  it("shows the user's name and a logout button when signed in", async () => {
    fake.signIn(alice());
    const page = await render();
    expect(page.querySelector('[data-testid="topbar-user-name"]')?.textContent).toContain(
      'Alice Smith',
    );
    expect(page.querySelector('[data-testid="topbar-login-button"]')).toBeNull();
    (page.querySelector('[data-testid="topbar-logout-button"]') as HTMLButtonElement).click();
    expect(fake.calls).toContain('logoffAndRevokeTokens');
  });
});
