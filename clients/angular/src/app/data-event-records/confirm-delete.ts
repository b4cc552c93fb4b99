import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  afterNextRender,
  input,
  output,
  viewChild,
} from '@angular/core';

/**
 * "Delete this record?" — shown inline (no modal) so it works with keyboard, screen readers and small
 * screens alike. Focus moves to the confirm button; Escape cancels.
 */
@Component({
  selector: 'app-confirm-delete',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '(keydown.escape)': 'cancelled.emit()' },
  template: `
    <div
      class="confirm"
      role="alertdialog"
      aria-labelledby="confirm-delete-title"
      aria-describedby="confirm-delete-text"
      data-testid="confirm-delete"
    >
      <h2 id="confirm-delete-title">Delete “{{ recordName() }}”?</h2>
      <p id="confirm-delete-text">The record is removed for everyone. This cannot be undone.</p>
      <div class="actions">
        <button
          #confirmButton
          type="button"
          class="btn btn-danger"
          [disabled]="busy()"
          (click)="confirmed.emit()"
          data-testid="confirm-delete-button"
        >
          {{ busy() ? 'Deleting…' : 'Delete' }}
        </button>
        <button
          type="button"
          class="btn btn-secondary"
          [disabled]="busy()"
          (click)="cancelled.emit()"
          data-testid="cancel-delete-button"
        >
          Cancel
        </button>
      </div>
    </div>
  `,
})
export class ConfirmDelete {
  readonly recordName = input.required<string>();
  readonly busy = input(false);
  readonly confirmed = output<void>();
  readonly cancelled = output<void>();

  private readonly confirmButton =
    viewChild.required<ElementRef<HTMLButtonElement>>('confirmButton');

  constructor() {
    afterNextRender(() => this.confirmButton().nativeElement.focus());
  }
}
