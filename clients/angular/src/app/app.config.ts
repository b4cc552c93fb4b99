import {
  ApplicationConfig,
  inject,
  provideAppInitializer,
  provideBrowserGlobalErrorListeners,
} from '@angular/core';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { AbstractSecurityStorage, provideAuth } from 'angular-auth-oidc-client';
import { firstValueFrom } from 'rxjs';

import { routes } from './app.routes';
import { authConfig } from './auth/auth.config';
import { apiAuthInterceptor } from './auth/api-auth.interceptor';
import { SessionService } from './auth/session.service';
import { TabSharedStorage } from './auth/tab-shared.storage';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideHttpClient(withInterceptors([apiAuthInterceptor])),
    provideRouter(routes, withComponentInputBinding()),
    provideAuth(authConfig),
    // One sign-in shared by all the tabs of the app (its tokens in localStorage), each tab running its own
    // login and renewal flows (in sessionStorage). The security trade-off is explained in TabSharedStorage.
    { provide: AbstractSecurityStorage, useClass: TabSharedStorage },
    // Check the session (and redeem the code on /callback) before the first navigation, so guards see
    // the real state. SessionService.checkAuth never errors: an unreachable provider still lets the app start.
    provideAppInitializer(() => firstValueFrom(inject(SessionService).checkAuth())),
  ],
};
