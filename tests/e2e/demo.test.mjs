// The demo in a real browser: the SPA, the provider's own sign-in, consent and logout, and the API behind
// them, started together by `portcullis-demo` from the demo data. Run with `npm test` (see the README).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import {
  byTestId,
  cspViolations,
  expectProviderLogin,
  openBrowser,
  screenshot,
  signIn,
  submitLogin,
} from './support/browser.mjs';
import { PASSWORD, URLS, startDemo } from './support/demo.mjs';
import { story } from './support/story.mjs';

const RECORDS_API = `${URLS.api}/api/DataEventRecords`;
const TOKEN_ENDPOINT = `${URLS.provider}/connect/token`;
/** Names unique to this run, so a failure message points at this run's records. */
const RUN = Date.now().toString(36);

let demo;

before(async () => {
  demo = await startDemo();
  console.log(`# demo ready in ${demo.startedInMs} ms (${demo.binary}, log ${demo.logPath})`);
});

after(async () => {
  await demo?.stop();
});

async function texts(locator) {
  return (await locator.allTextContents()).map((text) => text.trim());
}

test('alice signs in, sees her claims and roles, manages a record, reloads, and logs out everywhere', async (t) => {
  const { page, consoleErrors } = await openBrowser(t);
  const step = story(t);
  const name = `Calibration ${RUN}`;
  let recordId;

  await step('the SPA welcomes a signed-out visitor', async () => {
    await page.goto(URLS.spa);
    await byTestId(page, 'welcome').waitFor();
    await screenshot(page, 'spa-signed-out');
  });

  await step('she signs in on the provider’s login and consent pages', async () => {
    await byTestId(page, 'login-button').click();
    await expectProviderLogin(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await screenshot(page, 'provider-login');
    await signIn(page, 'alice', {
      onConsent: async () => {
        assert.equal(new URL(page.url()).origin, URLS.provider);
        assert.ok((await byTestId(page, 'consent-scopes').locator('li').count()) > 0);
        await screenshot(page, 'provider-consent');
      },
    });
    assert.equal(new URL(page.url()).pathname, '/');
  });

  await step('she sees her claims and her two roles', async () => {
    await byTestId(page, 'user-name').waitFor();
    assert.match(await byTestId(page, 'user-name').innerText(), /alice/i);
    assert.deepEqual((await texts(byTestId(page, 'role-chip'))).sort(), [
      'dataEventRecords.admin',
      'dataEventRecords.user',
    ]);
    const claim = (claimName) =>
      page.locator(`[data-testid="claim-row"][data-claim="${claimName}"]`).first();
    await claim('sub').waitFor();
    assert.match(await claim('email').innerText(), /alice@example\.com/);
    await screenshot(page, 'spa-home-alice');
  });

  await step('she creates a record', async () => {
    await byTestId(page, 'records-link').click();
    await page.waitForURL(`${URLS.spa}/dataeventrecords`);
    await byTestId(page, 'create-button').click();
    await byTestId(page, 'record-form').waitFor();
    await byTestId(page, 'name-input').fill(name);
    await byTestId(page, 'description-input').fill('Created by the end-to-end test');
    await byTestId(page, 'save-button').click();
    await byTestId(page, 'record-detail').waitFor();
    assert.equal((await byTestId(page, 'record-name').innerText()).trim(), name);
    recordId = (await byTestId(page, 'record-id').innerText()).trim();
    assert.match(recordId, /^\d+$/);
    assert.equal(new URL(page.url()).pathname, `/dataeventrecords/${recordId}`);
  });

  await step('she edits it', async () => {
    await byTestId(page, 'edit-button').click();
    await page.waitForURL(`${URLS.spa}/dataeventrecords/${recordId}/edit`);
    await page.waitForFunction(
      (expected) => document.querySelector('[data-testid="name-input"]')?.value === expected,
      name,
    );
    await byTestId(page, 'description-input').fill('Edited by the end-to-end test');
    await byTestId(page, 'save-button').click();
    await page.waitForURL(`${URLS.spa}/dataeventrecords/${recordId}`);
    await page
      .locator('[data-testid="record-description"]', { hasText: 'Edited by the end-to-end test' })
      .waitFor();
    await screenshot(page, 'spa-record-detail');
  });

  await step('she reloads the page and stays signed in', async () => {
    await page.reload();
    await byTestId(page, 'record-detail').waitFor();
    assert.match(await byTestId(page, 'topbar-user-name').innerText(), /alice/i);
    assert.equal((await byTestId(page, 'record-name').innerText()).trim(), name);
  });

  await step('she deletes it', async () => {
    await byTestId(page, 'back-link').click();
    const row = page.locator(`[data-testid="record-row"][data-record-id="${recordId}"]`);
    await row.waitFor();
    await screenshot(page, 'spa-records-alice');
    await row.locator('[data-testid="delete-button"]').click();
    await byTestId(page, 'confirm-delete').waitFor();
    await byTestId(page, 'confirm-delete-button').click();
    await row.waitFor({ state: 'detached' });
    const response = await fetch(`${RECORDS_API}/${recordId}`, {
      headers: { authorization: `Bearer ${await passwordGrantToken('alice')}` },
    });
    assert.equal(response.status, 404, 'the API no longer has the deleted record');
  });

  await step('she logs out, and the provider asks for her password again', async () => {
    const endSession = page.waitForRequest((request) =>
      request.url().startsWith(`${URLS.provider}/connect/logout`),
    );
    await byTestId(page, 'topbar-logout-button').click();
    await endSession;
    await page.waitForURL((url) => url.origin === URLS.spa);
    await byTestId(page, 'login-button').waitFor();
    await byTestId(page, 'login-button').click();
    // Signed in at the provider, this would come straight back to the SPA; signed out, it asks again.
    await expectProviderLogin(page);
    assert.equal(await byTestId(page, 'login-password').inputValue(), '');
  });

  assert.deepEqual(cspViolations(consoleErrors), [], 'no Content-Security-Policy violation');
});

test('bob reads records but cannot create: no button, the API answers 403 and the SPA says so', async (t) => {
  const seeded = await createRecordAsAlice(`Shared ${RUN}`);
  const { page, consoleErrors } = await openBrowser(t);
  const step = story(t);
  let accessToken;

  await step(
    'a deep link to the records sends him to sign in, then back to the records',
    async () => {
      await page.goto(`${URLS.spa}/dataeventrecords`);
      await byTestId(page, 'unauthorized-login-button').click();
      const token = page.waitForResponse((response) => response.url() === TOKEN_ENDPOINT);
      await signIn(page, 'bob');
      accessToken = (await (await token).json()).access_token;
      assert.ok(accessToken, 'the SPA received an access token');
      await page.waitForURL(`${URLS.spa}/dataeventrecords`);
    },
  );

  await step('he sees the records, with no create, edit or delete button', async () => {
    await page.locator(`[data-testid="record-row"][data-record-id="${seeded.id}"]`).waitFor();
    await byTestId(page, 'read-only-note').waitFor();
    assert.equal(await byTestId(page, 'create-button').count(), 0);
    assert.equal(await byTestId(page, 'edit-button').count(), 0);
    assert.equal(await byTestId(page, 'delete-button').count(), 0);
    await screenshot(page, 'spa-records-bob');
  });

  await step('his only role is dataEventRecords.user', async () => {
    await byTestId(page, 'nav-home').click();
    assert.deepEqual(await texts(byTestId(page, 'role-chip')), ['dataEventRecords.user']);
  });

  await step('the create page is refused by the SPA', async () => {
    await page.goto(`${URLS.spa}/dataeventrecords/create`);
    await byTestId(page, 'forbidden-page-message').waitFor();
  });

  await step('a create forced from the browser with his token gets 403 from the API', async () => {
    const status = await page.evaluate(
      async ({ url, token }) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'forced',
            description: '',
            timestamp: new Date().toISOString(),
          }),
        });
        return response.status;
      },
      { url: RECORDS_API, token: accessToken },
    );
    assert.equal(status, 403);
  });

  assert.deepEqual(cspViolations(consoleErrors), [], 'no Content-Security-Policy violation');
});

test('when the SPA is fooled into offering bob the create form, the API refuses and the SPA shows the 403', async (t) => {
  const { page } = await openBrowser(t);
  // The userinfo answer is altered on its way to the SPA: bob now looks like an admin to the SPA only. His
  // access token is unchanged, so the API, which decides, still refuses.
  await page.route(`${URLS.provider}/connect/userinfo`, async (route) => {
    const response = await route.fetch();
    const claims = await response.json();
    await route.fulfill({
      response,
      json: { ...claims, role: ['dataEventRecords.user', 'dataEventRecords.admin'] },
    });
  });
  await page.goto(URLS.spa);
  await byTestId(page, 'login-button').click();
  await signIn(page, 'bob');
  await page.goto(`${URLS.spa}/dataeventrecords/create`);
  await byTestId(page, 'name-input').fill(`Forbidden ${RUN}`);
  await byTestId(page, 'save-button').click();
  await byTestId(page, 'forbidden-message').waitFor();
  await screenshot(page, 'spa-forbidden-bob');
});

test('a wrong password shows the provider’s error on its login page', async (t) => {
  const { page, consoleErrors } = await openBrowser(t);
  await page.goto(URLS.spa);
  await byTestId(page, 'login-button').click();
  await submitLogin(page, 'alice', 'not-the-password');
  await byTestId(page, 'login-error').waitFor();
  assert.ok((await byTestId(page, 'login-error').innerText()).trim().length > 0);
  assert.equal(new URL(page.url()).origin, URLS.provider);
  assert.equal(await byTestId(page, 'login-password').inputValue(), '');
  await screenshot(page, 'provider-login-error');
  assert.deepEqual(cspViolations(consoleErrors), [], 'no Content-Security-Policy violation');
});

test('a French browser gets the French login page', async (t) => {
  const { page } = await openBrowser(t, { locale: 'fr-FR' });
  await page.goto(URLS.spa);
  await byTestId(page, 'login-button').click();
  await expectProviderLogin(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal((await byTestId(page, 'login-submit').innerText()).trim(), 'Se connecter');
  await screenshot(page, 'provider-login-fr');
});

test('Ctrl+C stops all three servers and frees their ports', async () => {
  const { code, signal } = await demo.stop();
  assert.equal(signal, null, `the demo exited by itself, not killed:\n${demo.tail()}`);
  assert.equal(code, 0, `the demo exited with 0:\n${demo.tail()}`);
  for (const port of [44319, 44390, 4200]) {
    assert.equal(await isListening(port), false, `nothing listens on ${port} any more`);
  }
});

/** A token for `username` from the password grant of the demo's console client (no browser involved). */
async function passwordGrantToken(username) {
  const response = await fetch(TOKEN_ENDPOINT, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('consoleclient:consoleClientSecret').toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      username,
      password: PASSWORD,
      scope: 'roles dataEventRecords',
    }),
  });
  assert.equal(
    response.status,
    200,
    `password grant for ${username}: ${await response.clone().text()}`,
  );
  return (await response.json()).access_token;
}

/** Creates a record through the API as alice, so bob's story does not depend on alice's. */
async function createRecordAsAlice(name) {
  const response = await fetch(RECORDS_API, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await passwordGrantToken('alice')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      name,
      description: 'Seeded for bob',
      timestamp: new Date().toISOString(),
    }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return response.json();
}

function isListening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
