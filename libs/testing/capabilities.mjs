// What this machine offers the tests beyond PostgreSQL (which is always there: a configured server, the local
// one, or an embedded one). Global setup probes once per run and hands the answers to every test file through
// SNAPDECK_TEST_CAPABILITIES; `describeWith` in @snapdeck/testing reads them. Plain JS: global setup and the
// reporter run outside ts-jest.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';

export const CAPABILITIES_ENV = 'SNAPDECK_TEST_CAPABILITIES';
/** A folder for this run only; test files append a line to `skipped.jsonl` there for each suite they skip. */
export const RUN_DIR_ENV = 'SNAPDECK_TEST_RUN_DIR';
export const SKIPS_FILE = 'skipped.jsonl';

export const LABELS = { redis: 'Redis', 'qemu-img': 'qemu-img', libvirt: 'libvirt' };
export const LIBVIRT_URI = 'qemu:///system';

/** `CI=true` (or any value but empty, 0 and false): nothing may be skipped. */
export function isCI() {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/** A URL without its password, to print. */
export function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** The Redis the tests use: TEST_REDIS_URL, else REDIS_URL, else the local default. */
export function testRedisUrl() {
  return process.env.TEST_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

function errorText(error) {
  return String(error?.message || error?.code || error).split('\n')[0];
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function run(command, args, timeout) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if (error.code === 'ENOENT')
        return reject(Object.assign(new Error(`${command} is not on PATH`), { code: 'ENOENT' }));
      if (error.killed)
        return reject(new Error(`${command} ${args.join(' ')} gave no answer within ${timeout / 1000} s`));
      reject(
        new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout || error.message).trim().split('\n')[0]}`),
      );
    });
  });
}

export async function probeRedis(url = testRedisUrl()) {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError;
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      1500,
      'no answer to PING',
    );
    return { available: true, detail: `${redactUrl(url)} answered PING` };
  } catch (error) {
    return { available: false, detail: `${redactUrl(url)} did not answer PING: ${errorText(lastError ?? error)}` };
  } finally {
    redis.disconnect();
  }
}

/** qemu-img and qemu-io, both from qemu-utils: the specs judge images with each. */
export async function probeQemuImg() {
  try {
    const [version] = await Promise.all([run('qemu-img', ['--version'], 5000), run('qemu-io', ['--version'], 5000)]);
    return { available: true, detail: version.trim().split('\n')[0] };
  } catch (error) {
    const hint = error.code === 'ENOENT' ? ' (apt-get install qemu-utils)' : '';
    return { available: false, detail: `${errorText(error)}${hint}` };
  }
}

export async function probeLibvirt() {
  try {
    await run('virsh', ['-c', LIBVIRT_URI, 'version'], 3000);
    return { available: true, detail: `virsh -c ${LIBVIRT_URI} answered` };
  } catch (error) {
    const hint = error.code === 'ENOENT' ? ' (apt-get install libvirt-clients libvirt-daemon-system)' : '';
    return { available: false, detail: `${errorText(error)}${hint}` };
  }
}

export async function probeCapabilities() {
  const [redis, qemuImg, libvirt] = await Promise.all([probeRedis(), probeQemuImg(), probeLibvirt()]);
  return { redis, 'qemu-img': qemuImg, libvirt };
}

/** `Redis yes (…) · qemu-img no (…)`: one line for the start of a run. */
export function describeCapabilities(capabilities) {
  return Object.entries(capabilities)
    .map(([name, c]) => `${LABELS[name] ?? name} ${c.available ? 'yes' : 'NO'} (${c.detail})`)
    .join(' · ');
}

/**
 * The capabilities a test file declares with `describeWith([...], …)`, read from its source. Global setup uses
 * this to fail a CI run before any test starts; `describeWith` itself is the guarantee.
 */
export async function declaredNeeds(file) {
  const source = await readFile(file, 'utf8').catch(() => '');
  const needs = new Set();
  for (const match of source.matchAll(/describeWith\(\s*\[([^\]]*)\]/g)) {
    for (const name of match[1].matchAll(/['"]([\w-]+)['"]/g)) needs.add(name[1]);
  }
  return [...needs];
}
