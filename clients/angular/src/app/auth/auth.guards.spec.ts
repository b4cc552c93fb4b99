import { TestBed } from '@angular/core/testing';
import {
  ActivatedRouteSnapshot,
  Router,
  RouterStateSnapshot,
  UrlTree,
  provideRouter,
} from '@angular/router';
import { Observable, firstValueFrom } from 'rxjs';
import { FakeOidcSecurityService, alice, bob, provideFakeOidc } from '../../testing/fake-oidc';
import { adminGuard, authGuard } from './auth.guards';

describe('route guards', () => {
  let fake: FakeOidcSecurityService;

  beforeEach(() => {
    fake = new FakeOidcSecurityService();
    TestBed.configureTestingModule({ providers: [provideRouter([]), provideFakeOidc(fake)] });
  });

  async function run(guard: typeof authGuard, url: string): Promise<true | string> {
    const result = TestBed.runInInjectionContext(() =>
      guard({} as ActivatedRouteSnapshot, { url } as RouterStateSnapshot),
    ) as Observable<boolean | UrlTree>;
    const value = await firstValueFrom(result);
    return value instanceof UrlTree ? TestBed.inject(Router).serializeUrl(value) : (value as true);
  }

  it('authGuard lets a signed-in user through', async () => {
    fake.signIn(bob());
    expect(await run(authGuard, '/dataeventrecords')).toBe(true);
  });

  it('authGuard sends a signed-out user to /unauthorized, remembering the page', async () => {
    expect(await run(authGuard, '/dataeventrecords/7')).toBe(
      '/unauthorized?returnUrl=%2Fdataeventrecords%2F7',
    );
  });

  it('adminGuard lets an admin through', async () => {
    fake.signIn(alice());
    expect(await run(adminGuard, '/dataeventrecords/create')).toBe(true);
  });

  it('adminGuard sends a non-admin to /forbidden', async () => {
    fake.signIn(bob());
    expect(await run(adminGuard, '/dataeventrecords/create')).toBe('/forbidden');
  });

  it('adminGuard sends a signed-out user to /unauthorized', async () => {
    expect(await run(adminGuard, '/dataeventrecords/create')).toBe(
      '/unauthorized?returnUrl=%2Fdataeventrecords%2Fcreate',
    );
  });
});
