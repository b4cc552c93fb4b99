// The SPA open in two tabs of one browser, on alice's one sign-in: both tabs renew their tokens at the same
// moment, round after round, and both stay signed in and keep reading the records from the API.
//
// Every renewal rotates the refresh token (RFC 9700 §4.14.2, refresh token rotation): the provider spends the
// token presented and issues a successor; a spent token presented again is a replay, which revokes the whole
// family (every token of the sign-in). Two tabs renewing together present the same token. The second use,
// by a tab that could not know of the first, comes within `tokens.refresh_token_reuse_leeway` (30 s in the
// demo) and gets the SAME successor back: the tabs stay on one chain, and the family stays alive.
//
// Both tabs click "Renew tokens" at one wall-clock instant, and the network holds the first renewal until the
// other's has left too: the race happens every round, and the test checks that it did (both renewals present
// the same token and each leaves before the other's answer). The demo runs with its own settings but a 45 s
// access token, so that the SPA's timers also renew during the test. Run with `npm test` (see the README).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { byTestId, cspViolations, openBrowser, screenshot, signIn } from './support/browser.mjs';
import { URLS, startDemo } from './support/demo.mjs';
import { story } from './support/story.mjs';

const TOKEN_ENDPOINT = `${URLS.provider}/connect/token`;
const RECORDS_API = `${URLS.api}/api/DataEventRecords`;
/**
 * Seconds an access token lives in this test. The SPA renews 30 s before it expires
 * (`renewTimeBeforeTokenExpiresInSeconds`), checking every 4 s: its timers renew 15 to 19 s after the last
 * renewal. That leaves each round of the test time to renew first, pushing the expiry back.
 */
const ACCESS_TOKEN_LIFETIME = 45;
const ROUNDS = 3;
/** How long one tab's renewal is held at the network, waiting for the other tab's. */
const HOLD_MS = 5_000;

let demo;

before(async () => {
  demo = await startDemo({
    env: { PORTCULLIS_TOKENS__ACCESS_TOKEN_LIFETIME: String(ACCESS_TOKEN_LIFETIME) },
    log: 'demo-two-tabs.log',
  });
  console.log(`# demo ready in ${demo.startedInMs} ms (${demo.binary}, log ${demo.logPath})`);
});

after(async () => {
  await demo?.stop();
});

test('two tabs renewing at the same moment stay on one refresh-token chain and signed in', async (t) => {
  const { context, page: first, consoleErrors } = await openBrowser(t);
  const step = story(t);
  const renewals = recordRenewals(context);
  const together = await holdRenewalsTogether(context);
  let second;
  const tabs = () => [first, second];
  /** The refresh token both tabs hold: the live head of the family's chain. */
  let head;

  await step('alice signs in in the first tab', async () => {
    await first.goto(URLS.spa);
    await byTestId(first, 'login-button').click();
    await signIn(first, 'alice');
    head = await storedRefreshToken(first);
    assert.ok(head, 'the first tab holds a refresh token');
  });

  await step('a second tab of the same browser opens the SPA on her sign-in', async () => {
    second = await context.newPage();
    await second.goto(URLS.spa);
    const signedIn = byTestId(second, 'topbar-user-name');
    await signedIn.or(byTestId(second, 'topbar-login-button')).first().waitFor();
    assert.ok(await signedIn.isVisible(), 'the second tab is signed in without logging in again');
    assert.equal(await storedRefreshToken(second), head, 'both tabs hold one refresh token');
  });

  for (let round = 1; round <= ROUNDS; round += 1) {
    await step(`round ${round}: both tabs renew at once, then read the records`, async () => {
      await Promise.all(tabs().map(goHome));
      const since = renewals.length;
      together.active = true;
      try {
        await clickTogether(tabs(), 'renew-button');
        await until(() => renewals.length >= since + 2, 'both tabs sent a renewal');
      } finally {
        together.active = false;
      }
      const raced = renewals.slice(since);
      describeRound(round, raced);
      head = expectOneSuccessor(raced, head);
      await Promise.all(tabs().map((page) => expectSignedIn(page, head)));
      await Promise.all(tabs().map(readRecords));
    });
  }

  await step(
    'their own timers renew the successor before it expires: the family lives',
    async () => {
      await Promise.all(tabs().map(goHome));
      const since = renewals.length;
      // Due 30 s (the SPA's renewal offset) before the expiry, seen within the 4 s between its checks.
      const due = (ACCESS_TOKEN_LIFETIME - 30 + 4 + 10) * 1000;
      await until(() => renewals.length > since, 'a tab renewed by itself', due);
      // The other tab's timer may have fired at the same instant: give its answer time to arrive.
      await sleep(1_000);
      const timed = renewals.slice(since);
      for (const renewal of timed) {
        assert.equal(renewal.status, 200, `the ${renewal.tab} tab's renewal: ${renewal.body}`);
        assert.equal(renewal.presented, head, 'it presented the successor both tabs got');
        assert.ok(renewal.received && renewal.received !== head, 'it got a new refresh token');
      }
      head = timed[0].received;
      await Promise.all(tabs().map((page) => expectSignedIn(page, head)));
      await Promise.all(tabs().map(readRecords));
      await screenshot(second, 'spa-records-second-tab');
    },
  );

  await step(
    'she logs out in one tab: the other signs out too, and the chain is dead',
    async () => {
      await goHome(first);
      const endSession = first.waitForRequest((request) =>
        request.url().startsWith(`${URLS.provider}/connect/logout`),
      );
      await byTestId(first, 'topbar-logout-button').click();
      await endSession;
      await first.waitForURL((url) => url.origin === URLS.spa);
      await byTestId(first, 'login-button').waitFor();
      await byTestId(second, 'welcome').waitFor();
      assert.match(await byTestId(second, 'auth-error').innerText(), /signed out in another tab/);
      assert.equal(await storedRefreshToken(second), null, 'the second tab holds no refresh token');
      const response = await fetch(TOKEN_ENDPOINT, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: head,
          client_id: 'angularclient',
        }),
      });
      assert.equal(response.status, 400, 'the provider refuses the last refresh token');
      assert.equal((await response.json()).error, 'invalid_grant');
    },
  );

  assert.deepEqual(cspViolations(consoleErrors), [], 'no Content-Security-Policy violation');
});

/**
 * The renewals of one round are a race that the provider settled as one rotation: one renewal per tab, each
 * sent before the other's answer came, both presenting `head` (neither tab had seen the other's renewal),
 * both answered 200 with the same new refresh token, which is returned.
 */
function expectOneSuccessor(raced, head) {
  assert.deepEqual(raced.map((renewal) => renewal.tab).sort(), ['first', 'second'], 'one per tab');
  for (const renewal of raced) {
    assert.equal(renewal.status, 200, `the ${renewal.tab} tab's renewal: ${renewal.body}`);
    assert.equal(renewal.presented, head, `the ${renewal.tab} tab presented the shared token`);
  }
  const [a, b] = raced;
  assert.ok(
    a.sentAt < b.answeredAt && b.sentAt < a.answeredAt,
    'each sent before the other’s answer',
  );
  assert.ok(a.received && a.received !== head, 'the provider rotated the refresh token');
  assert.equal(b.received, a.received, 'both tabs got the same successor: one chain, not two');
  return a.received;
}

/**
 * Every refresh-token renewal the tabs send to the token endpoint, in the order they finish: which tab, the
 * refresh token presented, the answer's status, body and refresh token, and when the request left and when
 * its answer came (milliseconds since the epoch, one clock for all tabs).
 */
function recordRenewals(context) {
  const renewals = [];
  const record = async (request) => {
    if (request.url() !== TOKEN_ENDPOINT || form(request).get('grant_type') !== 'refresh_token') {
      return;
    }
    const response = await request.response().catch(() => null);
    const body = response ? await response.text().catch(() => '') : 'no answer';
    const timing = request.timing();
    renewals.push({
      tab: tabName(request.frame().page()),
      presented: form(request).get('refresh_token'),
      status: response?.status() ?? 0,
      body,
      received: parseJson(body)?.refresh_token ?? null,
      sentAt: timing.startTime,
      answeredAt: timing.startTime + timing.responseEnd,
    });
  };
  context.on('requestfinished', record);
  context.on('requestfailed', record);
  return renewals;
}

/**
 * While `active`, holds each tab's renewal at the network until the other tab has sent its own (for at most
 * HOLD_MS), then lets both go on together. Both tabs click at the same instant anyway; this only absorbs the
 * milliseconds between their timers, so each round is a race at the provider and not two renewals in turn.
 */
async function holdRenewalsTogether(context) {
  const state = { active: false };
  let waiting = [];
  let timer;
  const release = () => {
    clearTimeout(timer);
    const held = waiting;
    waiting = [];
    for (const resume of held) {
      resume();
    }
  };
  await context.route(
    (url) => url.href === TOKEN_ENDPOINT,
    async (route) => {
      if (state.active && form(route.request()).get('grant_type') === 'refresh_token') {
        await new Promise((resume) => {
          waiting.push(resume);
          if (waiting.length === 1) {
            timer = setTimeout(release, HOLD_MS);
          } else {
            release();
          }
        });
      }
      await route.continue().catch(() => {});
    },
  );
  return state;
}

/** Clicks `testId` in every tab at one instant: each tab's own timer, set for the same wall-clock time. */
async function clickTogether(pages, testId) {
  const at = Date.now() + 300;
  await Promise.all(
    pages.map((page) =>
      page.evaluate(
        ({ at, selector }) =>
          new Promise((resolve, reject) => {
            setTimeout(() => {
              const button = document.querySelector(selector);
              if (button) {
                button.click();
                resolve();
              } else {
                reject(new Error(`no ${selector} to click`));
              }
            }, at - Date.now());
          }),
        { at, selector: `[data-testid="${testId}"]` },
      ),
    ),
  );
}

/** Waits until the tab holds `refreshToken`, shows alice signed in and reports no session error. */
async function expectSignedIn(page, refreshToken) {
  const name = tabName(page);
  await until(
    async () => (await storedRefreshToken(page)) === refreshToken,
    `the ${name} tab holds the refresh token of the chain's head`,
  );
  await byTestId(page, 'topbar-user-name').waitFor();
  assert.match(await byTestId(page, 'topbar-user-name').innerText(), /alice/i);
  assert.equal(
    await byTestId(page, 'auth-error').count(),
    0,
    `the ${name} tab shows no session error`,
  );
}

/** Opens the records list, which the API only answers with a valid access token. */
async function readRecords(page) {
  const answer = page.waitForResponse(
    (response) => response.url() === RECORDS_API && response.request().method() === 'GET',
  );
  await byTestId(page, 'nav-records').click();
  assert.equal((await answer).status(), 200, 'the API accepted the access token');
  await byTestId(page, 'records-table').or(byTestId(page, 'empty-list')).first().waitFor();
}

/** The first tab of the browser, where alice signed in, or the second. */
function tabName(page) {
  return page === page.context().pages()[0] ? 'first' : 'second';
}

async function goHome(page) {
  await byTestId(page, 'nav-home').click();
  await byTestId(page, 'renew-button').waitFor();
}

/**
 * The refresh token a tab holds, wherever the SPA keeps it: the OIDC library's entry with an `authnResult`,
 * in localStorage (shared by the tabs) or in sessionStorage (one per tab).
 */
function storedRefreshToken(page) {
  return page.evaluate(() => {
    for (const storage of [localStorage, sessionStorage]) {
      for (let index = 0; index < storage.length; index += 1) {
        try {
          const token = JSON.parse(storage.getItem(storage.key(index)))?.authnResult?.refresh_token;
          if (token) {
            return token;
          }
        } catch {
          // Not JSON: not the library's.
        }
      }
    }
    return null;
  });
}

/** Polls `condition` every 100 ms until it holds, failing with `what` after `timeoutMs`. */
async function until(condition, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    }
    await sleep(100);
  }
}

/** One line per renewal of a round, for the test's output: who sent what, when, and what came back. */
function describeRound(round, renewals) {
  const start = Math.min(...renewals.map((r) => r.sentAt));
  const at = (time) => `+${(time - start).toFixed(1)} ms`;
  const token = (value) => (value ? `…${value.slice(-6)}` : '-');
  for (const r of renewals) {
    console.log(
      `# round ${round}: the ${r.tab} tab sent ${token(r.presented)} at ${at(r.sentAt)}, ` +
        `answered ${r.status} ${token(r.received)} at ${at(r.answeredAt)}`,
    );
  }
}

function form(request) {
  return new URLSearchParams(request.postData() ?? '');
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
