import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink } from '@angular/router';

/** Any unknown path. */
@Component({
  selector: 'app-not-found',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="card" aria-labelledby="not-found-heading">
      <h1 id="not-found-heading">Page not found</h1>
      <p data-testid="not-found-message">
        There is no page at <code>{{ path }}</code
        >. The link may be old or mistyped.
      </p>
      <div class="actions">
        <a class="btn btn-primary" routerLink="/">Go to the home page</a>
        <a class="btn btn-secondary" routerLink="/dataeventrecords">Data event records</a>
      </div>
    </section>
  `,
})
export class NotFoundPage {
  protected readonly path = inject(Router).url;
}
