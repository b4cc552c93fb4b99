import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import { SessionService, isLocalUrl } from '../auth/session.service';

/** `/unauthorized`: the page needs a signed-in user (or the session expired). Offers a login that comes back. */
@Component({
  selector: 'app-unauthorized',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card" aria-labelledby="unauthorized-heading">
      <h1 id="unauthorized-heading">Please sign in</h1>
      <p data-testid="unauthorized-message">
        @if (reason() === 'expired') {
          Your session has expired or was ended, so the API did not accept the request.
        } @else {
          This page is only for signed-in users.
        }
        Sign in to continue; you will come back to where you were.
      </p>
      <div class="actions">
        <button
          type="button"
          class="btn btn-primary"
          (click)="login()"
          data-testid="unauthorized-login-button"
        >
          Log in
        </button>
        <a class="btn btn-secondary" routerLink="/">Home</a>
      </div>
    </section>
  `,
})
export class UnauthorizedPage {
  private readonly session = inject(SessionService);
  /** Query parameters, bound by the router. */
  readonly returnUrl = input<string | undefined>();
  readonly reason = input<string | undefined>();

  protected login(): void {
    const target = this.returnUrl();
    this.session.login(target && isLocalUrl(target) ? target : '/');
  }
}
