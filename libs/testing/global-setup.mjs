// Jest global setup runs outside ts-jest's module mapping, so it uses the built libraries (npm test builds
// first). Once per run it
//  - chooses the PostgreSQL server: TEST_DATABASE_URL or DATABASE_URL when set; otherwise the local default
//    server if it answers within 2 s; otherwise an embedded PostgreSQL (SNAPDECK_TEST_EMBEDDED_PG=1 forces it);
//  - probes Redis, qemu-img and libvirt, and hands the answers to the test files (SNAPDECK_TEST_CAPABILITIES)
//    for `describeWith`; under CI a capability that a test file needs and the machine lacks fails the run here;
//  - migrates one template database; every test file clones it.
// Test files see what is set on process.env here (jest's workers inherit it).
import { createDataSource } from '@snapdeck/persistence';
import { MIGRATIONS } from '@snapdeck/migrations';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import {
  CAPABILITIES_ENV,
  LABELS,
  RUN_DIR_ENV,
  declaredNeeds,
  describeCapabilities,
  isCI,
  probeCapabilities,
  redactUrl,
  testRedisUrl,
} from './capabilities.mjs';
import { pingPostgres, startEmbeddedPostgres } from './postgres-server.mjs';
import { TEST_PATHS } from './sequencer.mjs';
import { LOCAL_DEFAULT_URL, testServerUrl } from './server-url.mjs';

/** What global setup started, for global teardown (the same process). */
const STATE = Symbol.for('snapdeck.testRun');

function say(line) {
  process.stdout.write(`${line}\n`);
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Which server, and why; starts the embedded one when that is the answer. */
async function choosePostgres() {
  const forced = ['1', 'true'].includes(process.env.SNAPDECK_TEST_EMBEDDED_PG ?? '');
  const configured = process.env.TEST_DATABASE_URL
    ? 'TEST_DATABASE_URL'
    : process.env.DATABASE_URL
      ? 'DATABASE_URL'
      : null;
  if (configured && !forced) {
    const answer = await pingPostgres(testServerUrl(), 5000);
    if (!answer.ok) throw new Error(`${configured} ${redactUrl(testServerUrl())} does not answer: ${answer.error}`);
    return { description: `${redactUrl(testServerUrl())} (from ${configured})` };
  }
  let why = 'SNAPDECK_TEST_EMBEDDED_PG=1';
  if (!forced) {
    const local = await pingPostgres(LOCAL_DEFAULT_URL, 2000);
    if (local.ok) return { description: `local server ${LOCAL_DEFAULT_URL} (no DATABASE_URL set)` };
    why = `no DATABASE_URL set and ${LOCAL_DEFAULT_URL} did not answer: ${local.error}`;
  }
  const embedded = await startEmbeddedPostgres();
  const previous = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = embedded.url;
  return {
    embedded,
    restore: () => {
      if (previous === undefined) delete process.env.TEST_DATABASE_URL;
      else process.env.TEST_DATABASE_URL = previous;
    },
    description: `embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir} (${why})`,
  };
}

/** Under CI nothing may be skipped: a capability that this run's files need and the machine lacks ends it now. */
async function refuseMissingUnderCI(capabilities) {
  const missing = Object.entries(capabilities).filter(([, c]) => !c.available);
  if (!isCI() || missing.length === 0) return;
  const files = globalThis[TEST_PATHS] ?? [];
  const neededBy = new Map();
  for (const file of files) {
    for (const need of await declaredNeeds(file)) {
      if (!neededBy.has(need)) neededBy.set(need, []);
      neededBy.get(need).push(relative(process.cwd(), file));
    }
  }
  const problems = missing
    .filter(([name]) => neededBy.has(name))
    .map(([name, c]) => {
      const users = neededBy.get(name);
      const shown = users.slice(0, 3).join(', ') + (users.length > 3 ? `, and ${users.length - 3} more` : '');
      return `CI=true but ${LABELS[name] ?? name} is missing: ${c.detail} (needed by ${shown})`;
    });
  if (problems.length > 0) {
    throw new Error(`${problems.join('\n')}\nUnder CI nothing may be skipped: provide it (.ci/run installs it).`);
  }
}

export default async function globalSetup() {
  if (process.env.TEST_TIER === 'unit') return;
  const state = {};
  globalThis[STATE] = state;

  // One Redis for every spec: stack.ts reads REDIS_URL, agent.int-spec.ts TEST_REDIS_URL.
  const redisUrl = testRedisUrl();
  process.env.REDIS_URL = redisUrl;
  process.env.TEST_REDIS_URL = redisUrl;
  const capabilities = await probeCapabilities();
  say(`tests: capabilities: ${describeCapabilities(capabilities)}`);
  await refuseMissingUnderCI(capabilities);
  process.env[CAPABILITIES_ENV] = JSON.stringify(capabilities);

  const postgres = await choosePostgres();
  state.embedded = postgres.embedded;
  state.restore = postgres.restore;
  say(`tests: PostgreSQL: ${postgres.description}`);

  state.runDir = await mkdtemp(join(tmpdir(), 'snapdeck-jest-'));
  process.env[RUN_DIR_ENV] = state.runDir;

  try {
    const template = `snapdeck_tpl_${process.pid}`;
    await admin(`DROP DATABASE IF EXISTS ${template}`);
    await admin(`CREATE DATABASE ${template}`);
    const url = new URL(testServerUrl());
    url.pathname = `/${template}`;
    const dataSource = createDataSource({ url: url.toString(), migrations: MIGRATIONS });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();
    process.env.SNAPDECK_TEST_TEMPLATE_DB = template;
  } catch (error) {
    await globalTeardown();
    throw error;
  }
}

/** Drops this run's template database (each test file drops its own clone), stops an embedded server. */
export async function globalTeardown() {
  const state = globalThis[STATE] ?? {};
  delete globalThis[STATE];
  try {
    await dropTemplate();
  } finally {
    await state.embedded?.stop();
    state.restore?.();
    if (state.runDir) await rm(state.runDir, { recursive: true, force: true });
  }
}

export async function dropTemplate() {
  const template = process.env.SNAPDECK_TEST_TEMPLATE_DB;
  delete process.env.SNAPDECK_TEST_TEMPLATE_DB;
  if (template) await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
}
