import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import {
  FakeOidcSecurityService,
  FakeUser,
  alice,
  bob,
  provideFakeOidc,
} from '../../testing/fake-oidc';
import { DataEventRecord } from './data-event-record';
import { RecordListPage } from './record-list';

const API = 'http://localhost:44390/api/DataEventRecords';

const RECORDS: DataEventRecord[] = [
  {
    id: 1,
    name: 'DataEventRecord 1',
    description: 'The first record',
    timestamp: '2026-11-01T10:00:00Z',
  },
  {
    id: 2,
    name: 'DataEventRecord 2',
    description: 'The second record',
    timestamp: '2026-11-02T11:30:00Z',
  },
];

describe('RecordListPage', () => {
  let fixture: ComponentFixture<RecordListPage>;
  let httpMock: HttpTestingController;
  let page: HTMLElement;

  async function render(user: FakeUser): Promise<void> {
    TestBed.configureTestingModule({
      imports: [RecordListPage],
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([]),
        provideFakeOidc(new FakeOidcSecurityService(user)),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(RecordListPage);
    page = fixture.nativeElement as HTMLElement;
    await fixture.whenStable();
  }

  async function settle(): Promise<void> {
    fixture.detectChanges();
    await fixture.whenStable();
  }

  const byTestId = (id: string) => page.querySelectorAll(`[data-testid="${id}"]`);

  afterEach(() => httpMock.verify());

  it('lists the records with name, description and timestamp', async () => {
    await render(bob());
    expect(byTestId('loading')).toHaveLength(1);
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    const rows = byTestId('record-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('DataEventRecord 1');
    expect(rows[0].textContent).toContain('The first record');
    expect(rows[0].querySelector('time')?.getAttribute('datetime')).toBe('2026-11-01T10:00:00Z');
    expect(rows[1].getAttribute('data-record-id')).toBe('2');
  });

  it('hides create, edit and delete from a user without the admin role', async () => {
    await render(bob());
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    expect(byTestId('record-row')).toHaveLength(2);
    expect(byTestId('create-button')).toHaveLength(0);
    expect(byTestId('edit-button')).toHaveLength(0);
    expect(byTestId('delete-button')).toHaveLength(0);
    expect(byTestId('read-only-note')).toHaveLength(1);
  });

  it('shows create, edit and delete to an admin', async () => {
    await render(alice());
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    expect(byTestId('create-button')).toHaveLength(1);
    expect(byTestId('edit-button')).toHaveLength(2);
    expect(byTestId('delete-button')).toHaveLength(2);
    expect(byTestId('edit-button')[1].getAttribute('href')).toBe('/dataeventrecords/2/edit');
    expect(byTestId('read-only-note')).toHaveLength(0);
  });

  it('says politely that a 403 means not allowed', async () => {
    await render(bob());
    httpMock
      .expectOne(API)
      .flush({ error: 'insufficient_scope' }, { status: 403, statusText: 'Forbidden' });
    await settle();

    const message = byTestId('forbidden-message');
    expect(message).toHaveLength(1);
    expect(message[0].textContent).toContain('You are not allowed to see the data event records');
    expect(message[0].getAttribute('role')).toBe('alert');
    expect(byTestId('error-message')).toHaveLength(0);
  });

  it("shows another error with the API's error_description", async () => {
    await render(bob());
    httpMock
      .expectOne(API)
      .flush(
        { error: 'server_error', error_description: 'The database is unavailable' },
        { status: 503, statusText: 'Service Unavailable' },
      );
    await settle();

    const message = byTestId('error-message');
    expect(message).toHaveLength(1);
    expect(message[0].textContent).toContain('HTTP 503');
    expect(message[0].textContent).toContain('The database is unavailable');
  });

  it('sends the user to /unauthorized on a 401', async () => {
    await render(bob());
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    httpMock.expectOne(API).flush(null, { status: 401, statusText: 'Unauthorized' });
    await settle();

    expect(navigate).toHaveBeenCalledWith(['/unauthorized'], expect.objectContaining({}));
    expect(byTestId('error-message')).toHaveLength(0);
    expect(byTestId('forbidden-message')).toHaveLength(0);
  });

  it('deletes a record only after confirmation', async () => {
    await render(alice());
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    (byTestId('delete-button')[0] as HTMLButtonElement).click();
    await settle();
    httpMock.expectNone(`${API}/1`);
    expect(byTestId('confirm-delete')[0].textContent).toContain('DataEventRecord 1');

    (byTestId('confirm-delete-button')[0] as HTMLButtonElement).click();
    await settle();
    const request = httpMock.expectOne(`${API}/1`);
    expect(request.request.method).toBe('DELETE');
    request.flush(null, { status: 204, statusText: 'No Content' });
    await settle();

    expect(byTestId('record-row')).toHaveLength(1);
    expect(byTestId('confirm-delete')).toHaveLength(0);
    expect(byTestId('notice')[0].textContent).toContain('Deleted');
  });

  it('cancelling the confirmation deletes nothing', async () => {
    await render(alice());
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    (byTestId('delete-button')[1] as HTMLButtonElement).click();
    await settle();
    (byTestId('cancel-delete-button')[0] as HTMLButtonElement).click();
    await settle();

    httpMock.expectNone(`${API}/2`);
    expect(byTestId('confirm-delete')).toHaveLength(0);
    expect(byTestId('record-row')).toHaveLength(2);
  });

  it('shows the 403 message when the API refuses a delete', async () => {
    await render(alice());
    httpMock.expectOne(API).flush(RECORDS);
    await settle();

    (byTestId('delete-button')[0] as HTMLButtonElement).click();
    await settle();
    (byTestId('confirm-delete-button')[0] as HTMLButtonElement).click();
    await settle();
    httpMock.expectOne(`${API}/1`).flush(null, { status: 403, statusText: 'Forbidden' });
    await settle();

    expect(byTestId('forbidden-message')[0].textContent).toContain(
      'You are not allowed to delete this record',
    );
    expect(byTestId('record-row')).toHaveLength(2);
  });
});
