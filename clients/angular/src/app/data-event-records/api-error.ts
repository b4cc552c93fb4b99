import { HttpErrorResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import { environment } from '../../environments/environment';

/** An API failure, as shown to the user. */
export interface ApiProblem {
  readonly kind: 'forbidden' | 'not-found' | 'unreachable' | 'other';
  readonly message: string;
}

/**
 * The explanation the API sent, if any: OAuth's `error_description` (RFC 6750 §3), a problem document's
 * `detail` or `title` (RFC 9457), or a plain-text body.
 */
export function apiErrorDetail(error: unknown): string | null {
  if (!(error instanceof HttpErrorResponse)) {
    return null;
  }
  const body: unknown = error.error;
  if (typeof body === 'string') {
    const text = body.trim();
    return text && text.length <= 500 && !text.startsWith('<') ? text : null;
  }
  if (body !== null && typeof body === 'object') {
    const fields = body as Record<string, unknown>;
    for (const key of ['error_description', 'detail', 'title']) {
      const value = fields[key];
      if (typeof value === 'string' && value.trim()) {
        return value.trim();
      }
    }
  }
  return null;
}

/**
 * Turns an API error into a message for the page. `action` completes "You are not allowed to …", e.g.
 * "delete this record".
 */
export function describeApiError(error: unknown, action: string): ApiProblem {
  const status = error instanceof HttpErrorResponse ? error.status : -1;
  const detail = apiErrorDetail(error);
  switch (status) {
    case 403:
      return {
        kind: 'forbidden',
        message: `You are not allowed to ${action}. Ask an administrator for the dataEventRecords.admin role, or sign in as a user who has it.`,
      };
    case 404:
      return { kind: 'not-found', message: 'This record does not exist (any more).' };
    case 0:
      return {
        kind: 'unreachable',
        message: `The API at ${new URL(environment.apiUrl).origin} could not be reached. Check that it is running, then try again.`,
      };
    default:
      return {
        kind: 'other',
        message: `Could not ${action}${status > 0 ? ` (HTTP ${status})` : ''}${detail ? `: ${detail}` : '.'}`,
      };
  }
}

/** Shows API errors on a page, except a 401, which sends the user to `/unauthorized` to sign in again. */
@Injectable({ providedIn: 'root' })
export class ApiErrorHandler {
  private readonly router = inject(Router);

  /** The problem to show, or null when the user was sent away to sign in again. */
  handle(error: unknown, action: string): ApiProblem | null {
    if (error instanceof HttpErrorResponse && error.status === 401) {
      void this.router.navigate(['/unauthorized'], {
        queryParams: { returnUrl: this.router.url, reason: 'expired' },
      });
      return null;
    }
    return describeApiError(error, action);
  }
}
