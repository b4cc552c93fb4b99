import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { SessionService } from '../auth/session.service';

/**
 * `/callback`: the provider sends the browser here with the authorization code. The library redeems it
 * during the startup check; this page then goes to the page the user wanted, or explains what failed.
 */
@Component({
  selector: 'app-callback',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (failed()) {
      <section class="card" aria-labelledby="callback-heading">
        <h1 id="callback-heading">Sign-in did not complete</h1>
        <div class="alert alert-error" role="alert" data-testid="callback-error">
          {{ session.authError() ?? 'The provider did not return a valid sign-in.' }}
        </div>
        <p>You can try again, or go back to the home page.</p>
        <div class="actions">
          <button
            type="button"
            class="btn btn-primary"
            (click)="retry()"
            data-testid="retry-login-button"
          >
            Try again
          </button>
          <a class="btn btn-secondary" routerLink="/">Home</a>
        </div>
      </section>
    } @else {
      <p role="status" class="muted" data-testid="callback-pending">Signing you in…</p>
    }
  `,
})
export class CallbackPage implements OnInit {
  protected readonly session = inject(SessionService);
  private readonly router = inject(Router);
  protected readonly failed = signal(false);

  ngOnInit(): void {
    this.session.checkAuth().subscribe((authenticated) => {
      if (authenticated) {
        void this.router.navigateByUrl(this.session.consumeReturnUrl(), { replaceUrl: true });
      } else {
        this.failed.set(true);
      }
    });
  }

  protected retry(): void {
    this.session.login(this.session.consumeReturnUrl());
  }
}
