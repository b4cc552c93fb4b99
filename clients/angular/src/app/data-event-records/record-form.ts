import {
  ChangeDetectionStrategy,
  Component,
  OnInit,
  computed,
  inject,
  input,
  signal,
} from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { ApiProblemMessage } from '../shared/api-problem';
import { ApiErrorHandler, ApiProblem } from './api-error';
import { DESCRIPTION_MAX_LENGTH, DataEventRecordInput, NAME_MAX_LENGTH } from './data-event-record';
import { DataEventRecordsService } from './data-event-records.service';
import { parseRecordId } from './record-id';

/** `/dataeventrecords/create` and `/dataeventrecords/:id/edit` (admins only, see adminGuard). */
@Component({
  selector: 'app-record-form',
  imports: [ReactiveFormsModule, RouterLink, ApiProblemMessage],
  templateUrl: './record-form.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RecordFormPage implements OnInit {
  /** Route parameter on the edit route; absent when creating. */
  readonly id = input<string>();

  private readonly records = inject(DataEventRecordsService);
  private readonly errors = inject(ApiErrorHandler);
  private readonly router = inject(Router);

  protected readonly nameMax = NAME_MAX_LENGTH;
  protected readonly descriptionMax = DESCRIPTION_MAX_LENGTH;

  protected readonly form = inject(NonNullableFormBuilder).group({
    name: ['', [Validators.required, Validators.maxLength(NAME_MAX_LENGTH), notBlank]],
    description: ['', [Validators.maxLength(DESCRIPTION_MAX_LENGTH)]],
  });

  protected readonly isEdit = computed(() => this.id() !== undefined);
  private recordId: number | null = null;

  protected readonly loading = signal(false);
  protected readonly saving = signal(false);
  protected readonly submitted = signal(false);
  protected readonly problem = signal<ApiProblem | null>(null);

  ngOnInit(): void {
    if (!this.isEdit()) {
      return;
    }
    this.recordId = parseRecordId(this.id());
    if (this.recordId === null) {
      this.problem.set({ kind: 'not-found', message: 'This is not a valid record address.' });
      this.form.disable();
      return;
    }
    this.loading.set(true);
    this.records.get(this.recordId).subscribe({
      next: (record) => {
        this.form.setValue({ name: record.name, description: record.description ?? '' });
        this.loading.set(false);
      },
      error: (error: unknown) => {
        this.problem.set(this.errors.handle(error, 'edit this record'));
        this.form.disable();
        this.loading.set(false);
      },
    });
  }

  /** Whether to show a control's errors: after it was touched, or after a save attempt. */
  protected showErrors(name: 'name' | 'description'): boolean {
    const control = this.form.controls[name];
    return control.invalid && (control.touched || this.submitted());
  }

  protected save(): void {
    this.submitted.set(true);
    this.form.markAllAsTouched();
    if (this.form.invalid || this.saving()) {
      return;
    }
    const value = this.form.getRawValue();
    const input: DataEventRecordInput = {
      name: value.name.trim(),
      description: value.description.trim(),
    };
    const id = this.recordId;
    this.saving.set(true);
    this.problem.set(null);
    const request = id === null ? this.records.create(input) : this.records.update(id, input);
    request.subscribe({
      next: (saved) => {
        this.saving.set(false);
        const savedId = id ?? idOf(saved);
        void this.router.navigate(
          savedId === null ? ['/dataeventrecords'] : ['/dataeventrecords', savedId],
        );
      },
      error: (error: unknown) => {
        this.saving.set(false);
        this.problem.set(
          this.errors.handle(error, id === null ? 'create records' : 'edit this record'),
        );
      },
    });
  }
}

function notBlank(control: { value: unknown }): { blank: true } | null {
  return typeof control.value === 'string' &&
    control.value.length > 0 &&
    control.value.trim() === ''
    ? { blank: true }
    : null;
}

/** The id of the record the API returned after a create, if it returned one. */
function idOf(body: unknown): number | null {
  if (body !== null && typeof body === 'object' && 'id' in body) {
    const id = (body as { id: unknown }).id;
    return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : null;
  }
  return null;
}
