import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { SessionService } from '../auth/session.service';

/** `/forbidden`: signed in, but without the role the page needs. */
@Component({
  selector: 'app-forbidden',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card" aria-labelledby="forbidden-heading">
      <h1 id="forbidden-heading">Not allowed</h1>
      <p data-testid="forbidden-page-message">
        You are signed in{{ session.userName() ? ' as ' + session.userName() : '' }}, but you are
        not allowed to do this: it needs the <code>dataEventRecords.admin</code> role.
      </p>
      <p>
        You can still read the records. To change them, sign in as a user with that role, or ask an
        administrator.
      </p>
      <div class="actions">
        <a class="btn btn-primary" routerLink="/dataeventrecords">Back to the records</a>
        <a class="btn btn-secondary" routerLink="/">Home</a>
      </div>
    </section>
  `,
})
export class ForbiddenPage {
  protected readonly session = inject(SessionService);
}
