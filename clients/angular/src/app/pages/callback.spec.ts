import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { of } from 'rxjs';
import { FakeOidcSecurityService, alice, provideFakeOidc } from '../../testing/fake-oidc';
import { RETURN_URL_KEY } from '../auth/session.service';
import { CallbackPage } from './callback';

describe('CallbackPage', () => {
  let fake: FakeOidcSecurityService;

  async function render() {
    TestBed.configureTestingModule({
      imports: [CallbackPage],
      providers: [provideRouter([]), provideFakeOidc(fake)],
    });
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
    const fixture = TestBed.createComponent(CallbackPage);
    await fixture.whenStable();
    fixture.detectChanges();
    return { navigate, page: fixture.nativeElement as HTMLElement };
  }

  beforeEach(() => {
    sessionStorage.clear();
    fake = new FakeOidcSecurityService();
  });

  it('goes home after a successful sign-in', async () => {
    fake.signIn(alice());
    const { navigate } = await render();
    expect(navigate).toHaveBeenCalledWith('/', { replaceUrl: true });
  });

  it('goes back to the page the user wanted', async () => {
    sessionStorage.setItem(RETURN_URL_KEY, '/dataeventrecords/3');
    fake.signIn(alice());
    const { navigate } = await render();
    expect(navigate).toHaveBeenCalledWith('/dataeventrecords/3', { replaceUrl: true });
  });

  it('never follows a stored URL to another origin', async () => {
    sessionStorage.setItem(RETURN_URL_KEY, '//evil.example/steal');
    fake.signIn(alice());
    const { navigate } = await render();
    expect(navigate).toHaveBeenCalledWith('/', { replaceUrl: true });
  });

  it('explains a failed sign-in and offers to try again', async () => {
    fake.checkAuthResponse = of({
      isAuthenticated: false,
      errorMessage: 'AuthCallback AuthResult came with error: access_denied',
      userData: null,
      accessToken: '',
      idToken: '',
    });
    const { navigate, page } = await render();
    expect(navigate).not.toHaveBeenCalled();
    expect(page.querySelector('[data-testid="callback-error"]')?.textContent).toContain(
      'access_denied',
    );
    (page.querySelector('[data-testid="retry-login-button"]') as HTMLButtonElement).click();
    expect(fake.calls).toContain('authorize');
  });
});
