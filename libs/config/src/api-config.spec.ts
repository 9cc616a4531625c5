import { ApiConfig, loadApiConfig } from './api-config.js';

function failure(env: Record<string, string | undefined>): string {
  try {
    loadApiConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected loadApiConfig to refuse the environment');
}

/** The names of the variables an "Invalid configuration" message lists, one per line. */
function invalidVariables(message: string): string[] {
  const [head, ...lines] = message.split('\n');
  expect(head).toBe('Invalid configuration:');
  return lines.map((line) => /^ {2}([A-Z0-9_]+): ./.exec(line)?.[1] ?? `unparsed line ${JSON.stringify(line)}`);
}

describe('loadApiConfig', () => {
  it('has defaults for a developer machine', () => {
    const config = loadApiConfig({});
    expect(config).toBeInstanceOf(ApiConfig);
    expect({ ...config }).toEqual({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/snapdeck',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'snapdeck',
      PORT: 3000,
      HOST: '127.0.0.1',
      HTTP_KEEP_ALIVE_SECONDS: 65,
      NODE_ENV: 'development',
      MIGRATIONS_RUN: true,
      HOST_DOWN_AFTER_SECONDS: 60,
      JOB_LEASE_SECONDS: 300,
      JOB_SEND_CLAIM_SECONDS: 10,
      JOB_MAX_ATTEMPTS: 3,
      RECONCILE_INTERVAL_SECONDS: 15,
      INSTANCE_STOP_TIMEOUT_SECONDS: 60,
      GRAPHQL_MAX_COST: 20000,
      GRAPHQL_MAX_DEPTH: 10,
      AUTH_FAILURE_LIMIT: 30,
      AUTH_FAILURE_WINDOW_SECONDS: 900,
      TRUST_PROXY: false,
      SUBSCRIPTION_AUTH_RECHECK_SECONDS: 5,
      GRAPHQL_MAX_ROOT_FIELDS: 20,
      GRAPHQL_MAX_ALIASES: 20,
      DEFAULT_ORGANIZATION_LIMITS: {
        snapshots: null,
        snapshotGiB: null,
        instances: null,
        volumeGiB: null,
        backups: null,
        backupGiB: null,
      },
      STORAGE_OVERCOMMIT_RATIO: 1,
      STORAGE_AUDIT_INTERVAL_MINUTES: 60,
      STORAGE_AUDIT_ORPHAN_GRACE_MINUTES: 60,
      STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS: 60,
      STORAGE_AUDIT_AUTO_REPAIR: true,
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: false,
      WEBHOOK_TIMEOUT_SECONDS: 10,
      NOTIFY_FROM: 'Snapdeck <snapdeck@localhost>',
      NOTIFY_POLL_MS: 1000,
      NOTIFY_RETRY_BASE_SECONDS: 10,
      NOTIFY_GIVE_UP_HOURS: 24,
      BACKUP_FULL_EVERY: 7,
      POLICY_MIN_INTERVAL_SECONDS: 300,
      POLICY_POLL_INTERVAL_MS: 1000,
      POLICY_RUN_CONCURRENCY: 4,
      POLICY_PRUNE_INTERVAL_SECONDS: 60,
      POLICY_MAX_RETRIES: 3,
      POLICY_RETRY_BASE_SECONDS: 30,
      POLICY_SCHEDULER_ENABLED: true,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    });
    expect(config.SNAPDECK_ADMIN_TOKEN).toBeUndefined();
    expect(config.METRICS_TOKEN).toBeUndefined();
  });

  it('takes the values it is given', () => {
    const config = loadApiConfig({
      DATABASE_URL: 'postgres://app:secret@db:5432/prod',
      REDIS_URL: 'redis://cache:6379/2',
      QUEUE_PREFIX: 'ci-42',
      NODE_ENV: 'production',
      SNAPDECK_ADMIN_TOKEN: 'a-token-of-16-ch',
      HOST: '0.0.0.0',
      METRICS_TOKEN: 'metrics-token-16ch',
    });
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.METRICS_TOKEN).toBe('metrics-token-16ch');
    expect(config.DATABASE_URL).toBe('postgres://app:secret@db:5432/prod');
    expect(config.REDIS_URL).toBe('redis://cache:6379/2');
    expect(config.QUEUE_PREFIX).toBe('ci-42');
    expect(config.NODE_ENV).toBe('production');
    expect(config.SNAPDECK_ADMIN_TOKEN).toBe('a-token-of-16-ch');
  });

  it('converts numeric strings to numbers', () => {
    const config = loadApiConfig({
      PORT: '3000',
      HOST_DOWN_AFTER_SECONDS: '90',
      JOB_LEASE_SECONDS: '120',
      JOB_MAX_ATTEMPTS: '5',
      RECONCILE_INTERVAL_SECONDS: '1',
      INSTANCE_STOP_TIMEOUT_SECONDS: '120',
      GRAPHQL_MAX_COST: '500',
      GRAPHQL_MAX_DEPTH: '7',
      GRAPHQL_MAX_ROOT_FIELDS: '3',
      GRAPHQL_MAX_ALIASES: '0',
    });
    expect(config.PORT).toBe(3000);
    expect(typeof config.PORT).toBe('number');
    expect(config.HOST_DOWN_AFTER_SECONDS).toBe(90);
    expect(config.JOB_LEASE_SECONDS).toBe(120);
    expect(config.JOB_MAX_ATTEMPTS).toBe(5);
    expect(config.RECONCILE_INTERVAL_SECONDS).toBe(1);
    expect(config.INSTANCE_STOP_TIMEOUT_SECONDS).toBe(120);
    expect(config.GRAPHQL_MAX_COST).toBe(500);
    expect(config.GRAPHQL_MAX_DEPTH).toBe(7);
    expect(config.GRAPHQL_MAX_ROOT_FIELDS).toBe(3);
    expect(config.GRAPHQL_MAX_ALIASES).toBe(0);
  });

  it('reads an empty or unset variable as its default', () => {
    expect(loadApiConfig({ PORT: '', NODE_ENV: undefined }).PORT).toBe(3000);
    expect(loadApiConfig({ PORT: '', NODE_ENV: undefined }).NODE_ENV).toBe('development');
  });

  it('accepts ports 0 to 65535', () => {
    expect(loadApiConfig({ PORT: '0' }).PORT).toBe(0);
    expect(loadApiConfig({ PORT: '65535' }).PORT).toBe(65535);
  });

  it.each(['65536', '-1', '3000.5', 'abc', '80a'])('refuses PORT=%j', (port) => {
    expect(invalidVariables(failure({ PORT: port }))).toEqual(['PORT']);
  });

  it.each(['true', 'True', ' TRUE ', '1', 'yes'])('reads MIGRATIONS_RUN=%j as true', (value) => {
    expect(loadApiConfig({ MIGRATIONS_RUN: value }).MIGRATIONS_RUN).toBe(true);
  });

  // With implicit conversion, @Transform must read the raw string (`obj[key]`), not Boolean('false').
  it.each(['false', 'FALSE', ' false ', '0', 'no'])('reads MIGRATIONS_RUN=%j as false', (value) => {
    expect(loadApiConfig({ MIGRATIONS_RUN: value }).MIGRATIONS_RUN).toBe(false);
  });

  it.each(['maybe', 'off', '2'])('refuses MIGRATIONS_RUN=%j', (value) => {
    expect(invalidVariables(failure({ MIGRATIONS_RUN: value }))).toEqual(['MIGRATIONS_RUN']);
  });

  it.each(['development', 'production', 'test'])('accepts NODE_ENV=%s', (nodeEnv) => {
    expect(loadApiConfig({ NODE_ENV: nodeEnv }).NODE_ENV).toBe(nodeEnv);
  });

  it('refuses an unknown NODE_ENV', () => {
    expect(invalidVariables(failure({ NODE_ENV: 'staging' }))).toEqual(['NODE_ENV']);
  });

  it.each(['debug', 'info', 'warn', 'error'])('accepts LOG_LEVEL=%s', (level) => {
    expect(loadApiConfig({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it.each(['verbose', 'trace', 'INFO', 'silent'])('refuses LOG_LEVEL=%j', (level) => {
    expect(invalidVariables(failure({ LOG_LEVEL: level }))).toEqual(['LOG_LEVEL']);
  });

  it('writes JSON unless LOG_FORMAT asks for pretty lines', () => {
    expect(loadApiConfig({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(loadApiConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(invalidVariables(failure({ LOG_FORMAT: 'text' }))).toEqual(['LOG_FORMAT']);
  });

  it('binds loopback unless HOST says otherwise, and takes an empty HOST or METRICS_TOKEN as unset', () => {
    expect(loadApiConfig({}).HOST).toBe('127.0.0.1');
    expect(loadApiConfig({ HOST: '::' }).HOST).toBe('::');
    expect(loadApiConfig({ METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    expect(() => loadApiConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadApiConfig({ HOST: '' }).HOST).toBe('127.0.0.1');
  });

  it('wants an admin token of 16 characters at least', () => {
    expect(loadApiConfig({ SNAPDECK_ADMIN_TOKEN: 'x'.repeat(16) }).SNAPDECK_ADMIN_TOKEN).toBe('x'.repeat(16));
    expect(invalidVariables(failure({ SNAPDECK_ADMIN_TOKEN: 'x'.repeat(15) }))).toEqual(['SNAPDECK_ADMIN_TOKEN']);
  });

  it.each([
    'HOST_DOWN_AFTER_SECONDS',
    'JOB_LEASE_SECONDS',
    'JOB_SEND_CLAIM_SECONDS',
    'JOB_MAX_ATTEMPTS',
    'RECONCILE_INTERVAL_SECONDS',
    'INSTANCE_STOP_TIMEOUT_SECONDS',
    'GRAPHQL_MAX_COST',
    'GRAPHQL_MAX_DEPTH',
    'GRAPHQL_MAX_ROOT_FIELDS',
  ])('wants %s to be a whole number of at least 1', (name) => {
    expect(loadApiConfig({ [name]: '1' })[name as keyof ApiConfig]).toBe(1);
    expect(invalidVariables(failure({ [name]: '0' }))).toEqual([name]);
    expect(invalidVariables(failure({ [name]: '1.5' }))).toEqual([name]);
  });

  it('lists every invalid variable in one error', () => {
    const message = failure({
      PORT: 'abc',
      NODE_ENV: 'staging',
      SNAPDECK_ADMIN_TOKEN: 'short',
      JOB_MAX_ATTEMPTS: '0',
      REDIS_URL: 'redis://fine:6379',
    });
    expect(invalidVariables(message).sort()).toEqual(
      ['JOB_MAX_ATTEMPTS', 'NODE_ENV', 'PORT', 'SNAPDECK_ADMIN_TOKEN'].sort(),
    );
    expect(message).not.toContain('REDIS_URL');
  });

  it('ignores variables it does not know, so the whole process environment can be passed', () => {
    const config = loadApiConfig({ PATH: '/usr/bin:/bin', HOME: '/root', PORT: '4000' });
    expect(config.PORT).toBe(4000);
    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('HOME');
  });

  it('reads the sign-in limits and the subscription re-check, with defaults', () => {
    const defaults = loadApiConfig({});
    expect(defaults.AUTH_FAILURE_LIMIT).toBe(30);
    expect(defaults.AUTH_FAILURE_WINDOW_SECONDS).toBe(900);
    expect(defaults.SUBSCRIPTION_AUTH_RECHECK_SECONDS).toBe(5);
    expect(defaults.TRUST_PROXY).toBe(false);
    const config = loadApiConfig({
      AUTH_FAILURE_LIMIT: '5',
      AUTH_FAILURE_WINDOW_SECONDS: '60',
      SUBSCRIPTION_AUTH_RECHECK_SECONDS: '1',
    });
    expect([config.AUTH_FAILURE_LIMIT, config.AUTH_FAILURE_WINDOW_SECONDS]).toEqual([5, 60]);
    expect(config.SUBSCRIPTION_AUTH_RECHECK_SECONDS).toBe(1);
    expect(() => loadApiConfig({ AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT/);
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['2', 2],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
  ])('reads TRUST_PROXY=%s as Express takes it', (raw, expected) => {
    expect(loadApiConfig({ TRUST_PROXY: raw }).TRUST_PROXY).toEqual(expected);
  });

  it('reads DEFAULT_ORGANIZATION_LIMITS as JSON of the limit fields', () => {
    const config = loadApiConfig({
      DEFAULT_ORGANIZATION_LIMITS: '{"snapshots": 50, "volumeGiB": 500, "instances": null}',
    });
    expect(config.DEFAULT_ORGANIZATION_LIMITS).toEqual({
      snapshots: 50,
      snapshotGiB: null,
      instances: null,
      volumeGiB: 500,
      backups: null,
      backupGiB: null,
    });
  });

  it.each([
    ['invalid JSON', '{"snapshots": ', 'not valid JSON'],
    ['an unknown field', '{"snapshot": 5}', 'unknown field snapshot'],
    ['a negative value', '{"instances": -1}', 'non-negative integer'],
    ['a string value', '{"instances": "5"}', 'non-negative integer'],
    ['an array', '[5]', 'JSON object'],
  ])('refuses DEFAULT_ORGANIZATION_LIMITS with %s (a start-up error)', (_label, value, says) => {
    const message = failure({ DEFAULT_ORGANIZATION_LIMITS: value });
    expect(invalidVariables(message)).toEqual(['DEFAULT_ORGANIZATION_LIMITS']);
    expect(message).toContain(says);
  });

  it('reads STORAGE_OVERCOMMIT_RATIO as a number and refuses 0', () => {
    expect(loadApiConfig({ STORAGE_OVERCOMMIT_RATIO: '1.5' }).STORAGE_OVERCOMMIT_RATIO).toBe(1.5);
    expect(invalidVariables(failure({ STORAGE_OVERCOMMIT_RATIO: '0' }))).toEqual(['STORAGE_OVERCOMMIT_RATIO']);
  });

  it('reads the storage audit settings: 0 disables the periodic audit, a grace of 0 is allowed', () => {
    const config = loadApiConfig({
      STORAGE_AUDIT_INTERVAL_MINUTES: '0',
      STORAGE_AUDIT_ORPHAN_GRACE_MINUTES: '0',
      STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS: '5',
      STORAGE_AUDIT_AUTO_REPAIR: 'false',
    });
    expect(config.STORAGE_AUDIT_INTERVAL_MINUTES).toBe(0);
    expect(config.STORAGE_AUDIT_ORPHAN_GRACE_MINUTES).toBe(0);
    expect(config.STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS).toBe(5);
    expect(config.STORAGE_AUDIT_AUTO_REPAIR).toBe(false);
  });

  it.each([
    ['STORAGE_AUDIT_INTERVAL_MINUTES', '-1'],
    ['STORAGE_AUDIT_ORPHAN_GRACE_MINUTES', 'soon'],
    ['STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS', '0'],
    ['STORAGE_AUDIT_AUTO_REPAIR', 'maybe'],
  ])('refuses %s=%j', (name, value) => {
    expect(invalidVariables(failure({ [name]: value }))).toEqual([name]);
  });
});
