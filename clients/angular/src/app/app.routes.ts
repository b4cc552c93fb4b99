import { Routes } from '@angular/router';
import { adminGuard, authGuard } from './auth/auth.guards';
import { HomePage } from './pages/home/home';
import { CallbackPage } from './pages/callback';
import { UnauthorizedPage } from './pages/unauthorized';
import { ForbiddenPage } from './pages/forbidden';
import { NotFoundPage } from './pages/not-found';

const appName = 'Portcullis demo';

export const routes: Routes = [
  { path: '', component: HomePage, title: appName, pathMatch: 'full' },
  { path: 'callback', component: CallbackPage, title: `Signing in · ${appName}` },
  {
    path: 'dataeventrecords',
    canActivate: [authGuard],
    children: [
      {
        path: '',
        loadComponent: () =>
          import('./data-event-records/record-list').then((m) => m.RecordListPage),
        title: `Data event records · ${appName}`,
      },
      {
        path: 'create',
        canActivate: [adminGuard],
        loadComponent: () =>
          import('./data-event-records/record-form').then((m) => m.RecordFormPage),
        title: `New record · ${appName}`,
      },
      {
        path: ':id',
        loadComponent: () =>
          import('./data-event-records/record-detail').then((m) => m.RecordDetailPage),
        title: `Record · ${appName}`,
      },
      {
        path: ':id/edit',
        canActivate: [adminGuard],
        loadComponent: () =>
          import('./data-event-records/record-form').then((m) => m.RecordFormPage),
        title: `Edit record · ${appName}`,
      },
    ],
  },
  { path: 'unauthorized', component: UnauthorizedPage, title: `Sign-in needed · ${appName}` },
  { path: 'forbidden', component: ForbiddenPage, title: `Not allowed · ${appName}` },
  { path: '**', component: NotFoundPage, title: `Page not found · ${appName}` },
];
