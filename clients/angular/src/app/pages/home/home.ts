import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { SessionService } from '../../auth/session.service';

/** Signed out: a welcome and "Log in". Signed in: who you are, your roles and your claims. */
@Component({
  selector: 'app-home',
  imports: [RouterLink],
  templateUrl: './home.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class HomePage {
  protected readonly session = inject(SessionService);

  protected login(): void {
    this.session.login('/');
  }

  protected renew(): void {
    this.session.renew();
  }

  protected logout(): void {
    this.session.logout();
  }
}
