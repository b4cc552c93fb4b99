import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { FakeOidcSecurityService, provideFakeOidc } from '../../testing/fake-oidc';
import { apiAuthInterceptor, isSecureUrl } from './api-auth.interceptor';

describe('apiAuthInterceptor', () => {
  let fake: FakeOidcSecurityService;
  let http: HttpClient;
  let httpMock: HttpTestingController;

  beforeEach(() => {
    fake = new FakeOidcSecurityService({ accessToken: 'secret-access-token' });
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([apiAuthInterceptor])),
        provideHttpClientTesting(),
        provideFakeOidc(fake),
      ],
    });
    http = TestBed.inject(HttpClient);
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => httpMock.verify());

  function authorizationSentTo(url: string): string | null {
    http.get(url).subscribe();
    const request = httpMock.expectOne(url);
    request.flush({});
    return request.request.headers.get('Authorization');
  }

  it('adds the bearer token to the records API', () => {
    expect(authorizationSentTo('http://localhost:44390/api/DataEventRecords')).toBe(
      'Bearer secret-access-token',
    );
    expect(authorizationSentTo('http://localhost:44390/api/DataEventRecords/7')).toBe(
      'Bearer secret-access-token',
    );
  });

  it('adds the token to every method on the API', () => {
    http.delete('http://localhost:44390/api/DataEventRecords/3').subscribe();
    const request = httpMock.expectOne('http://localhost:44390/api/DataEventRecords/3');
    expect(request.request.method).toBe('DELETE');
    expect(request.request.headers.get('Authorization')).toBe('Bearer secret-access-token');
    request.flush(null);
  });

  it.each([
    ['the provider', 'http://localhost:44319/connect/userinfo'],
    ['the provider discovery', 'http://localhost:44319/.well-known/openid-configuration'],
    ['another origin', 'https://example.com/api/DataEventRecords'],
    ['a look-alike host', 'http://localhost:44390.evil.example/api/DataEventRecords'],
    ['another port', 'http://localhost:44391/api/DataEventRecords'],
    ['https instead of http', 'https://localhost:44390/api/DataEventRecords'],
    ['the API origin outside /api/', 'http://localhost:44390/health'],
    ['a relative URL', '/api/DataEventRecords'],
    ['credentials in the URL', 'http://localhost:44390@evil.example/api/DataEventRecords'],
  ])('does not add the token for %s', (_what, url) => {
    expect(authorizationSentTo(url)).toBeNull();
  });

  it('sends no header when there is no access token (signed out)', () => {
    fake.signOut();
    expect(authorizationSentTo('http://localhost:44390/api/DataEventRecords')).toBeNull();
  });

  it('keeps an Authorization header the caller set itself', () => {
    const url = 'http://localhost:44390/api/DataEventRecords';
    http.get(url, { headers: { Authorization: 'Bearer other' } }).subscribe();
    const request = httpMock.expectOne(url);
    expect(request.request.headers.get('Authorization')).toBe('Bearer other');
    request.flush([]);
  });
});

describe('isSecureUrl', () => {
  it('matches by prefix of the configured routes only', () => {
    const routes = ['http://localhost:44390/api/'];
    expect(isSecureUrl('http://localhost:44390/api/x', routes)).toBe(true);
    expect(isSecureUrl('http://localhost:44390/apix', routes)).toBe(false);
    expect(isSecureUrl('http://localhost:44390/api', routes)).toBe(false);
  });

  it('never matches with no routes or an empty route', () => {
    expect(isSecureUrl('http://localhost:44390/api/x', [])).toBe(false);
    expect(isSecureUrl('http://anything', [''])).toBe(false);
  });
});
