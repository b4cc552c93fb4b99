import { HttpErrorResponse } from '@angular/common/http';
import { apiErrorDetail, describeApiError } from './api-error';

const error = (status: number, body: unknown = null) =>
  new HttpErrorResponse({
    status,
    error: body,
    url: 'http://localhost:44390/api/DataEventRecords',
  });

describe('describeApiError', () => {
  it('turns a 403 into a polite "not allowed"', () => {
    const problem = describeApiError(
      error(403, { error: 'insufficient_scope' }),
      'delete this record',
    );
    expect(problem.kind).toBe('forbidden');
    expect(problem.message).toMatch(/^You are not allowed to delete this record\./);
  });

  it('names a missing record', () => {
    expect(describeApiError(error(404), 'see this record').kind).toBe('not-found');
  });

  it('says when the API cannot be reached', () => {
    const problem = describeApiError(error(0), 'see the records');
    expect(problem.kind).toBe('unreachable');
    expect(problem.message).toContain('http://localhost:44390');
  });

  it('includes the status and the detail of other errors', () => {
    const problem = describeApiError(error(500, { detail: 'disk full' }), 'create records');
    expect(problem).toEqual({
      kind: 'other',
      message: 'Could not create records (HTTP 500): disk full',
    });
  });
});

describe('apiErrorDetail', () => {
  it('prefers error_description, then detail, then title', () => {
    expect(apiErrorDetail(error(400, { error_description: 'a', detail: 'b', title: 'c' }))).toBe(
      'a',
    );
    expect(apiErrorDetail(error(400, { detail: 'b', title: 'c' }))).toBe('b');
    expect(apiErrorDetail(error(400, { title: 'c' }))).toBe('c');
  });

  it('accepts short plain text but not HTML pages', () => {
    expect(apiErrorDetail(error(500, 'database locked'))).toBe('database locked');
    expect(apiErrorDetail(error(502, '<html><body>Bad gateway</body></html>'))).toBeNull();
  });

  it('has nothing to say about non-HTTP errors or empty bodies', () => {
    expect(apiErrorDetail(new Error('x'))).toBeNull();
    expect(apiErrorDetail(error(500))).toBeNull();
  });
});
