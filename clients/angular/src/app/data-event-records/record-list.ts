import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { SessionService } from '../auth/session.service';
import { ApiProblemMessage } from '../shared/api-problem';
import { ApiErrorHandler, ApiProblem } from './api-error';
import { ConfirmDelete } from './confirm-delete';
import { DataEventRecord } from './data-event-record';
import { DataEventRecordsService } from './data-event-records.service';

/** `/dataeventrecords`: all records; admins also get create, edit and delete. */
@Component({
  selector: 'app-record-list',
  imports: [DatePipe, RouterLink, ApiProblemMessage, ConfirmDelete],
  templateUrl: './record-list.html',
  styleUrl: './record-list.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordListPage implements OnInit {
  protected readonly session = inject(SessionService);
  private readonly records = inject(DataEventRecordsService);
  private readonly errors = inject(ApiErrorHandler);

  protected readonly items = signal<DataEventRecord[]>([]);
  protected readonly loading = signal(true);
  protected readonly problem = signal<ApiProblem | null>(null);
  protected readonly pendingDelete = signal<DataEventRecord | null>(null);
  protected readonly deleting = signal(false);
  protected readonly notice = signal<string | null>(null);

  ngOnInit(): void {
    this.load();
  }

  protected load(): void {
    this.loading.set(true);
    this.problem.set(null);
    this.records.list().subscribe({
      next: (items) => {
        this.items.set(items);
        this.loading.set(false);
      },
      error: (error: unknown) => {
        this.problem.set(this.errors.handle(error, 'see the data event records'));
        this.loading.set(false);
      },
    });
  }

  protected askDelete(record: DataEventRecord): void {
    this.notice.set(null);
    this.problem.set(null);
    this.pendingDelete.set(record);
  }

  protected cancelDelete(): void {
    this.pendingDelete.set(null);
  }

  protected confirmDelete(): void {
    const record = this.pendingDelete();
    if (!record) {
      return;
    }
    this.deleting.set(true);
    this.records.delete(record.id).subscribe({
      next: () => {
        this.items.update((items) => items.filter((r) => r.id !== record.id));
        this.notice.set(`Deleted “${record.name}”.`);
        this.pendingDelete.set(null);
        this.deleting.set(false);
      },
      error: (error: unknown) => {
        this.problem.set(this.errors.handle(error, 'delete this record'));
        this.pendingDelete.set(null);
        this.deleting.set(false);
      },
    });
  }
}
