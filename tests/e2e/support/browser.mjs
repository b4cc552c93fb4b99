// Debian's Chromium driven by playwright-core (never a downloaded browser), one fresh profile per browser, and
// the page actions the tests share: the provider's sign-in and consent pages, screenshots.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { PASSWORD, REPOSITORY, URLS } from './demo.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const SCREENSHOTS = path.join(REPOSITORY, 'target', 'e2e-screenshots');

/**
 * A new headless Chromium with an empty temporary profile (no cookies, no storage from another test), closed
 * and deleted when the test `t` ends. Console errors of all its tabs are collected: CSP violations show there.
 */
export async function openBrowser(t, { locale = 'en-US' } = {}) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    locale,
    viewport: { width: 1100, height: 720 },
  });
  t.after(async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const consoleErrors = [];
  context.on('console', (message) => {
    if (message.type() === 'error') {
      consoleErrors.push(`${message.page()?.url()}: ${message.text()}`);
    }
  });
  context.on('weberror', (error) =>
    consoleErrors.push(`${error.page()?.url()}: ${error.error().message}`),
  );
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, consoleErrors };
}

/** The locator of a `data-testid`. */
export function byTestId(page, id) {
  return page.locator(`[data-testid="${id}"]`);
}

/** Waits until the browser is on the provider's sign-in page. */
export async function expectProviderLogin(page) {
  await page.waitForURL((url) => url.origin === URLS.provider && url.pathname === '/login');
  await byTestId(page, 'login-username').waitFor();
}

/** Fills and submits the provider's sign-in form (the browser must be on it). */
export async function submitLogin(page, username, password = PASSWORD) {
  await expectProviderLogin(page);
  await byTestId(page, 'login-username').fill(username);
  await byTestId(page, 'login-password').fill(password);
  await byTestId(page, 'login-submit').click();
}

/**
 * From the provider's sign-in page to the SPA: signs in, allows the consent if the provider asks for it (the
 * first time a user signs in to the SPA), and waits until the SPA shows the user signed in.
 * `onConsent(page)` runs while the consent page is shown (for a screenshot).
 */
export async function signIn(page, username, { onConsent } = {}) {
  await submitLogin(page, username);
  const consent = byTestId(page, 'consent-allow');
  const signedIn = byTestId(page, 'topbar-user-name');
  await consent.or(signedIn).first().waitFor();
  if (await consent.isVisible()) {
    await onConsent?.(page);
    await consent.click();
  }
  await page.waitForURL((url) => url.origin === URLS.spa && url.pathname !== '/callback');
  await signedIn.waitFor();
}

/** Saves what the window shows as target/e2e-screenshots/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** The console errors that are Content-Security-Policy violations. */
export function cspViolations(consoleErrors) {
  return consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text));
}
