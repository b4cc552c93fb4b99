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
import { RecordDetailPage } from './record-detail';
import { parseRecordId } from './record-id';

const API = 'http://localhost:44390/api/DataEventRecords';
const RECORD = {
  id: 5,
  name: 'Boiler check',
  description: 'Yearly',
  timestamp: '2026-11-05T08:00:00Z',
};

describe('RecordDetailPage', () => {
  let fixture: ComponentFixture<RecordDetailPage>;
  let httpMock: HttpTestingController;
  let page: HTMLElement;

  async function render(user: FakeUser, id: string): Promise<void> {
    TestBed.configureTestingModule({
      imports: [RecordDetailPage],
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([]),
        provideFakeOidc(new FakeOidcSecurityService(user)),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(RecordDetailPage);
    fixture.componentRef.setInput('id', id);
    page = fixture.nativeElement as HTMLElement;
    await settle();
  }

  async function settle(): Promise<void> {
    fixture.detectChanges();
    await fixture.whenStable();
  }

  const byTestId = (id: string) => page.querySelector<HTMLElement>(`[data-testid="${id}"]`);

  afterEach(() => httpMock.verify());

  it('shows the record without write actions for a read-only user', async () => {
    await render(bob(), '5');
    httpMock.expectOne(`${API}/5`).flush(RECORD);
    await settle();
    expect(byTestId('record-name')?.textContent).toContain('Boiler check');
    expect(byTestId('record-description')?.textContent).toContain('Yearly');
    expect(byTestId('record-timestamp')?.getAttribute('datetime')).toBe('2026-11-05T08:00:00Z');
    expect(byTestId('edit-button')).toBeNull();
    expect(byTestId('delete-button')).toBeNull();
  });

  it('lets an admin delete after confirming, then returns to the list', async () => {
    await render(alice(), '5');
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    httpMock.expectOne(`${API}/5`).flush(RECORD);
    await settle();
    expect(byTestId('edit-button')?.getAttribute('href')).toBe('/dataeventrecords/5/edit');

    byTestId('delete-button')?.click();
    await settle();
    byTestId('confirm-delete-button')?.click();
    await settle();
    httpMock.expectOne({ method: 'DELETE', url: `${API}/5` }).flush(null);
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/dataeventrecords']);
  });

  it('says when the record does not exist', async () => {
    await render(bob(), '99');
    httpMock
      .expectOne(`${API}/99`)
      .flush({ title: 'Not Found' }, { status: 404, statusText: 'Not Found' });
    await settle();
    expect(byTestId('error-message')?.textContent).toContain('does not exist');
  });
});

describe('parseRecordId', () => {
  it('accepts positive integers only', () => {
    expect(parseRecordId('7')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'abc', '1e3', '', ' 7', undefined, null]) {
      expect(parseRecordId(bad)).toBeNull();
    }
  });
});
