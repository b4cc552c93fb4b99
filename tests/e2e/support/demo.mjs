// Starts the built `portcullis-demo` binary with a fresh data directory (so every run begins from the demo
// data), waits until its three servers answer, and stops it and everything it started — also when a test
// fails or the runner is interrupted.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPOSITORY = path.resolve(import.meta.dirname, '..', '..', '..');

/** The demo's fixed addresses (design.md, "Demo data"): the browser uses these names. */
export const URLS = {
  provider: 'http://localhost:44319',
  api: 'http://localhost:44390',
  spa: 'http://localhost:4200',
};

export const PASSWORD = 'Demo-Passw0rd!';

/** Where readiness is checked from Node: the servers listen on 127.0.0.1, whatever `localhost` resolves to. */
const PROBES = [
  { name: 'provider', url: 'http://127.0.0.1:44319/healthz', ok: (status) => status === 200 },
  // The API answers 401 without a token: it is up and routing.
  {
    name: 'API',
    url: 'http://127.0.0.1:44390/api/DataEventRecords',
    ok: (status) => status === 401,
  },
  { name: 'SPA', url: 'http://127.0.0.1:4200/', ok: (status) => status === 200 },
];

/** Seconds to wait for the three servers; the first start generates keys (and may build the SPA). */
const START_TIMEOUT_MS = Number(process.env.E2E_START_TIMEOUT ?? 180) * 1000;
/** Seconds the demo gets to stop after SIGINT (its own limit is 10 s) before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * The binary to run: `E2E_DEMO_BIN` if set, else the newest `portcullis-demo` among the debug and
 * release builds of `CARGO_TARGET_DIR` (or, when it is unset, of ~/.cache/portcullis/target and ./target).
 */
export function demoBinary() {
  const explicit = process.env.E2E_DEMO_BIN;
  if (explicit) {
    const binary = path.resolve(REPOSITORY, explicit);
    if (!existsSync(binary)) {
      throw new Error(`E2E_DEMO_BIN=${explicit}: no such file`);
    }
    return binary;
  }
  const targets = process.env.CARGO_TARGET_DIR
    ? [path.resolve(REPOSITORY, process.env.CARGO_TARGET_DIR)]
    : [path.join(os.homedir(), '.cache', 'portcullis', 'target'), path.join(REPOSITORY, 'target')];
  const profiles = process.env.E2E_DEMO_PROFILE
    ? [process.env.E2E_DEMO_PROFILE]
    : ['debug', 'release'];
  const found = targets
    .flatMap((target) => profiles.map((profile) => path.join(target, profile, 'portcullis-demo')))
    .filter((binary) => existsSync(binary))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length === 0) {
    throw new Error(
      `no portcullis-demo binary under ${targets.join(' or ')} (${profiles.join(', ')}): build it with ` +
        '`cargo build -p portcullis-demo`, or set E2E_DEMO_BIN',
    );
  }
  return found[0];
}

/**
 * Starts the demo and resolves once the provider, the API and the SPA all answer. The demo's output goes to
 * target/e2e/<log>; its last lines are part of any start error. `env` holds settings for this start only,
 * e.g. `{ PORTCULLIS_TOKENS__ACCESS_TOKEN_LIFETIME: '40' }` (the provider reads `PORTCULLIS_*`, the API
 * `DATA_EVENT_RECORDS_*`); those of the runner's own environment never reach the demo.
 */
export async function startDemo({ env = {}, log: logName = 'demo.log' } = {}) {
  const binary = demoBinary();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-data-'));
  const logDir = path.join(REPOSITORY, 'target', 'e2e');
  mkdirSync(logDir, { recursive: true });
  const logPath = path.join(logDir, logName);
  const log = createWriteStream(logPath);
  let tail = '';
  const started = Date.now();

  // Its own process group, so one signal reaches the demo and anything it started (npm during a build).
  const child = spawn(binary, ['--data-dir', dataDir], {
    cwd: REPOSITORY,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: demoEnvironment(env),
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
  }
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });

  // Whatever happens to this runner, the demo does not outlive it.
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => running && killGroup('SIGKILL');
  const onSignal = (signal) => {
    killGroup('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const cleanup = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };

  const stop = async () => {
    if (running) {
      killGroup('SIGINT');
      // An unreferenced timer: once the demo has exited, it must not keep the runner waiting for 15 s.
      const stopped = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, null, { ref: false })]);
      if (stopped === null) {
        killGroup('SIGKILL');
        await exited;
        cleanup();
        throw new Error(
          `the demo did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT; killed it`,
        );
      }
    }
    // Anything left in its group (there should be nothing) goes too.
    killGroup('SIGKILL');
    cleanup();
    return exited;
  };

  try {
    await Promise.race([
      waitUntilReady(started),
      exited.then(({ code, signal, error }) => {
        throw new Error(
          `the demo exited before it was ready (${error ?? `code ${code}, signal ${signal}`}):\n${tail}`,
        );
      }),
    ]);
  } catch (error) {
    await stop().catch(() => {});
    throw new Error(`${error.message}\n(${binary}; full output in ${logPath})`);
  }
  return { binary, dataDir, logPath, startedInMs: Date.now() - started, stop, tail: () => tail };
}

/**
 * This environment without `PORTCULLIS_*` and `DATA_EVENT_RECORDS_*` variables (the provider and the API would
 * read them as settings, and every run must start from the demo's own), plus the settings a test asked for.
 */
function demoEnvironment(settings) {
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('PORTCULLIS_') && !name.startsWith('DATA_EVENT_RECORDS_'),
    ),
  );
  return { ...environment, ...settings, NO_COLOR: '1' };
}

async function waitUntilReady(started) {
  const pending = new Set(PROBES);
  while (pending.size > 0) {
    for (const probe of [...pending]) {
      try {
        const response = await fetch(probe.url, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (probe.ok(response.status)) {
          pending.delete(probe);
        }
      } catch {
        // Not listening or not serving yet.
      }
    }
    if (pending.size === 0) {
      return;
    }
    if (Date.now() - started > START_TIMEOUT_MS) {
      const names = [...pending].map((probe) => probe.name).join(', ');
      throw new Error(`the demo's ${names} did not answer within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(250);
  }
}
