import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';
import { environment } from '../../environments/environment';
import { DataEventRecord, DataEventRecordInput } from './data-event-record';

/**
 * The dataEventRecords API. The access token is added by `apiAuthInterceptor`, because the URLs start
 * with the configured secure route.
 */
@Injectable({ providedIn: 'root' })
export class DataEventRecordsService {
  private readonly http = inject(HttpClient);
  private readonly baseUrl = environment.apiUrl;

  list(): Observable<DataEventRecord[]> {
    return this.http.get<DataEventRecord[]>(this.baseUrl);
  }

  get(id: number): Observable<DataEventRecord> {
    return this.http.get<DataEventRecord>(this.url(id));
  }

  /** `POST` with `{ name, description, timestamp }`; the API assigns the id and returns the record. */
  create(input: DataEventRecordInput, now: Date = new Date()): Observable<DataEventRecord> {
    return this.http.post<DataEventRecord>(this.baseUrl, {
      name: input.name,
      description: input.description,
      timestamp: now.toISOString(),
    });
  }

  /** `PUT` with the whole record `{ id, name, description, timestamp }`, timestamp set to now. */
  update(id: number, input: DataEventRecordInput, now: Date = new Date()): Observable<unknown> {
    return this.http.put(this.url(id), {
      id,
      name: input.name,
      description: input.description,
      timestamp: now.toISOString(),
    });
  }

  delete(id: number): Observable<unknown> {
    return this.http.delete(this.url(id));
  }

  private url(id: number): string {
    return `${this.baseUrl}/${encodeURIComponent(String(id))}`;
  }
}
