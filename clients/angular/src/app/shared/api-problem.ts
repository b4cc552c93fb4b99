import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { ApiProblem } from '../data-event-records/api-error';

/** An API problem as an alert: a polite "not allowed" for 403, the error otherwise. */
@Component({
  selector: 'app-api-problem',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @let p = problem();
    @if (p.kind === 'forbidden') {
      <div class="alert alert-warning" role="alert" data-testid="forbidden-message">
        <strong>Not allowed.</strong> {{ p.message }}
      </div>
    } @else {
      <div class="alert alert-error" role="alert" data-testid="error-message">
        <strong>Something went wrong.</strong> {{ p.message }}
      </div>
    }
  `,
})
export class ApiProblemMessage {
  readonly problem = input.required<ApiProblem>();
}
