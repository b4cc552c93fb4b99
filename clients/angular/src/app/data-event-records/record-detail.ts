import { DatePipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  OnInit,
  inject,
  input,
  signal,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Router, RouterLink } from '@angular/router';
import { SessionService } from '../auth/session.service';
import { ApiProblemMessage } from '../shared/api-problem';
import { ApiErrorHandler, ApiProblem } from './api-error';
import { ConfirmDelete } from './confirm-delete';
import { DataEventRecord } from './data-event-record';
import { DataEventRecordsService } from './data-event-records.service';
import { parseRecordId } from './record-id';

/** `/dataeventrecords/:id`: one record; admins can edit or delete it. */
@Component({
  selector: 'app-record-detail',
  imports: [DatePipe, RouterLink, ApiProblemMessage, ConfirmDelete],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <p><a routerLink="/dataeventrecords" data-testid="back-link">← All records</a></p>

    @if (problem(); as p) {
      <app-api-problem [problem]="p" />
    }

    @if (loading()) {
      <p role="status" class="muted" data-testid="loading">Loading the record…</p>
    } @else if (record(); as r) {
      <article class="card" aria-labelledby="record-heading" data-testid="record-detail">
        <div class="page-header">
          <h1 id="record-heading" data-testid="record-name">{{ r.name }}</h1>
          @if (session.isAdmin()) {
            <div class="actions">
              <a
                class="btn btn-secondary"
                [routerLink]="['/dataeventrecords', r.id, 'edit']"
                data-testid="edit-button"
                >Edit</a
              >
              <button
                type="button"
                class="btn btn-danger"
                (click)="confirming.set(true)"
                data-testid="delete-button"
              >
                Delete
              </button>
            </div>
          }
        </div>

        @if (confirming()) {
          <app-confirm-delete
            [recordName]="r.name"
            [busy]="deleting()"
            (confirmed)="confirmDelete(r)"
            (cancelled)="confirming.set(false)"
          />
        }

        <dl class="details">
          <dt>Description</dt>
          <dd data-testid="record-description">{{ r.description || '—' }}</dd>
          <dt>Timestamp</dt>
          <dd>
            <time [attr.datetime]="r.timestamp" data-testid="record-timestamp">{{
              r.timestamp | date: 'full'
            }}</time>
          </dd>
          <dt>Id</dt>
          <dd data-testid="record-id">{{ r.id }}</dd>
        </dl>
      </article>
    }
  `,
  styles: `
    .details {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 0.5rem 1.5rem;
      margin: 0;
    }
    .details dt {
      font-weight: 600;
      color: var(--text-muted);
    }
    .details dd {
      margin: 0;
      overflow-wrap: anywhere;
      white-space: pre-line;
    }
    @media (max-width: 600px) {
      .details {
        grid-template-columns: 1fr;
        gap: 0.15rem;
      }
      .details dd {
        margin-bottom: 0.6rem;
      }
    }
  `,
})
export class RecordDetailPage implements OnInit {
  /** Route parameter, bound by the router. */
  readonly id = input<string>();

  protected readonly session = inject(SessionService);
  private readonly records = inject(DataEventRecordsService);
  private readonly errors = inject(ApiErrorHandler);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);

  protected readonly record = signal<DataEventRecord | null>(null);
  protected readonly loading = signal(true);
  protected readonly problem = signal<ApiProblem | null>(null);
  protected readonly confirming = signal(false);
  protected readonly deleting = signal(false);

  ngOnInit(): void {
    const id = parseRecordId(this.id());
    if (id === null) {
      this.problem.set({ kind: 'not-found', message: 'This is not a valid record address.' });
      this.loading.set(false);
      return;
    }
    this.records
      .get(id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (record) => {
          this.record.set(record);
          this.loading.set(false);
        },
        error: (error: unknown) => {
          this.problem.set(this.errors.handle(error, 'see this record'));
          this.loading.set(false);
        },
      });
  }

  protected confirmDelete(record: DataEventRecord): void {
    this.deleting.set(true);
    this.problem.set(null);
    this.records.delete(record.id).subscribe({
      next: () => {
        this.deleting.set(false);
        void this.router.navigate(['/dataeventrecords']);
      },
      error: (error: unknown) => {
        this.problem.set(this.errors.handle(error, 'delete this record'));
        this.confirming.set(false);
        this.deleting.set(false);
      },
    });
  }
}
