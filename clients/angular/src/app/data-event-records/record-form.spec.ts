import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { FakeOidcSecurityService, alice, provideFakeOidc } from '../../testing/fake-oidc';
import { RecordFormPage } from './record-form';

const API = 'http://localhost:44390/api/DataEventRecords';

describe('RecordFormPage', () => {
  let fixture: ComponentFixture<RecordFormPage>;
  let httpMock: HttpTestingController;
  let page: HTMLElement;
  let navigate: ReturnType<typeof vi.spyOn>;

  async function render(id?: string): Promise<void> {
    TestBed.configureTestingModule({
      imports: [RecordFormPage],
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([]),
        provideFakeOidc(new FakeOidcSecurityService(alice())),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    fixture = TestBed.createComponent(RecordFormPage);
    if (id !== undefined) {
      fixture.componentRef.setInput('id', id);
    }
    page = fixture.nativeElement as HTMLElement;
    await settle();
  }

  async function settle(): Promise<void> {
    fixture.detectChanges();
    await fixture.whenStable();
  }

  const byTestId = <T extends Element = HTMLElement>(id: string) =>
    page.querySelector(`[data-testid="${id}"]`) as T;

  function type(id: string, value: string): void {
    const field = byTestId<HTMLInputElement | HTMLTextAreaElement>(id);
    field.value = value;
    field.dispatchEvent(new Event('input'));
    field.dispatchEvent(new Event('blur'));
  }

  afterEach(() => httpMock.verify());

  it('creates a record and opens it', async () => {
    await render();
    expect(page.querySelector('h1')?.textContent).toContain('New record');
    type('name-input', '  Fire drill ');
    type('description-input', 'Everyone out by 10:00');
    byTestId<HTMLButtonElement>('save-button').click();
    await settle();

    const request = httpMock.expectOne(API);
    expect(request.request.method).toBe('POST');
    expect(request.request.body).toEqual({
      name: 'Fire drill',
      description: 'Everyone out by 10:00',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
    request.flush({
      id: 42,
      name: 'Fire drill',
      description: 'Everyone out by 10:00',
      timestamp: '2026-11-24T10:00:00Z',
    });
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/dataeventrecords', 42]);
  });

  it('does not send a record without a name, and says why', async () => {
    await render();
    type('name-input', '   ');
    byTestId<HTMLButtonElement>('save-button').click();
    await settle();

    httpMock.expectNone(API);
    expect(byTestId('name-input').getAttribute('aria-invalid')).toBe('true');
    expect(page.querySelector('#record-name-error')?.textContent).toContain('Please enter a name');
  });

  it("shows the API's problem detail when the create is rejected", async () => {
    await render();
    type('name-input', 'Dup');
    byTestId<HTMLButtonElement>('save-button').click();
    await settle();
    httpMock
      .expectOne(API)
      .flush(
        { type: 'about:blank', title: 'Bad Request', detail: 'name must be unique' },
        { status: 400, statusText: 'Bad Request' },
      );
    await settle();

    expect(byTestId('error-message').textContent).toContain('name must be unique');
    expect(navigate).not.toHaveBeenCalled();
  });

  it('shows the polite 403 message when the API refuses the create', async () => {
    await render();
    type('name-input', 'Nope');
    byTestId<HTMLButtonElement>('save-button').click();
    await settle();
    httpMock.expectOne(API).flush(null, { status: 403, statusText: 'Forbidden' });
    await settle();

    expect(byTestId('forbidden-message').textContent).toContain(
      'You are not allowed to create records',
    );
  });

  it('loads the record to edit and saves it with PUT', async () => {
    await render('7');
    expect(page.querySelector('h1')?.textContent).toContain('Edit record');
    httpMock.expectOne(`${API}/7`).flush({
      id: 7,
      name: 'Old name',
      description: 'Old text',
      timestamp: '2026-11-01T00:00:00Z',
    });
    await settle();
    expect(byTestId<HTMLInputElement>('name-input').value).toBe('Old name');
    expect(byTestId<HTMLTextAreaElement>('description-input').value).toBe('Old text');

    type('name-input', 'New name');
    byTestId<HTMLButtonElement>('save-button').click();
    await settle();
    const request = httpMock.expectOne(`${API}/7`);
    expect(request.request.method).toBe('PUT');
    expect(request.request.body).toEqual(
      expect.objectContaining({ id: 7, name: 'New name', description: 'Old text' }),
    );
    request.flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/dataeventrecords', 7]);
  });

  it('refuses an id that is not a number without calling the API', async () => {
    await render('abc');
    httpMock.expectNone(() => true);
    expect(byTestId('error-message').textContent).toContain('not a valid record address');
    expect(byTestId<HTMLButtonElement>('save-button').disabled).toBe(true);
  });
});
