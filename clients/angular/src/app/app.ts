import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { filter, map } from 'rxjs';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { SessionService } from './auth/session.service';

/** The shell: skip link, top bar (app name, navigation, user), the routed page, a short footer. */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  templateUrl: './app.html',
  styleUrl: './app.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {
  protected readonly session = inject(SessionService);
  private readonly router = inject(Router);

  /** The callback page explains a failed sign-in itself; the banner would only repeat it. */
  protected readonly onCallbackPage = toSignal(
    this.router.events.pipe(
      filter((e): e is NavigationEnd => e instanceof NavigationEnd),
      map((e) => e.urlAfterRedirects.startsWith('/callback')),
    ),
    { initialValue: false },
  );

  /**
   * With `<base href="/">` a plain `#main` link would load `/#main` (the home page) from any other page:
   * move the focus to the main landmark instead.
   */
  protected skipToMain(event: Event): void {
    event.preventDefault();
    const main = (event.target as HTMLElement).ownerDocument.getElementById('main');
    main?.focus(); // focusing also scrolls it into view
  }

  protected login(): void {
    const here = this.router.url;
    this.session.login(
      here.startsWith('/unauthorized') || here.startsWith('/callback') ? '/' : here,
    );
  }

  protected logout(): void {
    this.session.logout();
  }
}
