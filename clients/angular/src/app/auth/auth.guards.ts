import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { map } from 'rxjs';
import { SessionService } from './session.service';

/** Signed-in users pass; others go to `/unauthorized`, which offers a login that comes back here. */
export const authGuard: CanActivateFn = (_route, state) => {
  const session = inject(SessionService);
  const router = inject(Router);
  return session
    .checkAuth()
    .pipe(
      map(() =>
        session.isAuthenticated()
          ? true
          : router.createUrlTree(['/unauthorized'], { queryParams: { returnUrl: state.url } }),
      ),
    );
};

/** Users with the `dataEventRecords.admin` role pass; other signed-in users go to `/forbidden`. */
export const adminGuard: CanActivateFn = (_route, state) => {
  const session = inject(SessionService);
  const router = inject(Router);
  return session.checkAuth().pipe(
    map(() => {
      if (!session.isAuthenticated()) {
        return router.createUrlTree(['/unauthorized'], { queryParams: { returnUrl: state.url } });
      }
      return session.isAdmin() ? true : router.createUrlTree(['/forbidden']);
    }),
  );
};
