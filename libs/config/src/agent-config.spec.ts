import { AGENT_DRIVERS, AgentConfig, loadAgentConfig } from './agent-config.js';

function failure(env: Record<string, string | undefined>): string {
  try {
    loadAgentConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected loadAgentConfig to refuse the environment');
}

/** The names of the variables an "Invalid configuration" message lists, one per line. */
function invalidVariables(message: string): string[] {
  const [head, ...lines] = message.split('\n');
  expect(head).toBe('Invalid configuration:');
  return lines.map((line) => /^ {2}([A-Z0-9_]+): ./.exec(line)?.[1] ?? `unparsed line ${JSON.stringify(line)}`);
}

describe('loadAgentConfig', () => {
  it('has defaults for a developer machine', () => {
    const config = loadAgentConfig({});
    expect(config).toBeInstanceOf(AgentConfig);
    expect({ ...config }).toEqual({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'snapdeck',
      AGENT_HOST_NAME: 'kvm-1',
      AGENT_STORAGE_DIR: './.snapdeck/primary',
      SECONDARY_STORAGE_DIR: './.snapdeck/secondary',
      AGENT_DRIVER: 'qemu-img',
      AGENT_LIBVIRT_URI: 'qemu:///system',
      AGENT_HEARTBEAT_SECONDS: 10,
      AGENT_RESULT_RESEND_SECONDS: 5,
      AGENT_CONCURRENCY: 4,
      AGENT_MAX_CONCURRENT_SNAPSHOTS: 2,
      AGENT_SECONDARY_READ_TIMEOUT_SECONDS: 60,
      SIMULATOR_LATENCY_MS: 50,
      SIMULATOR_FAILURE_RATE: 0,
      SIMULATOR_STORAGE_BYTES: 2 ** 50,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    });
  });

  it('takes the values it is given and converts numbers', () => {
    const config = loadAgentConfig({
      REDIS_URL: 'redis://cache:6379',
      AGENT_HOST_NAME: 'kvm-07',
      AGENT_STORAGE_DIR: '/var/lib/snapdeck/primary',
      SECONDARY_STORAGE_DIR: '/mnt/secondary',
      AGENT_DRIVER: 'simulator',
      AGENT_LIBVIRT_URI: 'qemu+ssh://root@kvm-07/system',
      AGENT_HEARTBEAT_SECONDS: '5',
      AGENT_CONCURRENCY: '64',
      SIMULATOR_LATENCY_MS: '0',
      SIMULATOR_FAILURE_RATE: '0.25',
      SIMULATOR_STORAGE_BYTES: '77309411328',
    });
    expect(config).toMatchObject({
      REDIS_URL: 'redis://cache:6379',
      AGENT_HOST_NAME: 'kvm-07',
      AGENT_STORAGE_DIR: '/var/lib/snapdeck/primary',
      SECONDARY_STORAGE_DIR: '/mnt/secondary',
      AGENT_DRIVER: 'simulator',
      AGENT_LIBVIRT_URI: 'qemu+ssh://root@kvm-07/system',
      AGENT_HEARTBEAT_SECONDS: 5,
      AGENT_CONCURRENCY: 64,
      SIMULATOR_LATENCY_MS: 0,
      SIMULATOR_FAILURE_RATE: 0.25,
      SIMULATOR_STORAGE_BYTES: 72 * 1024 ** 3,
    });
  });

  describe('AGENT_HOST_NAME is a hostname label', () => {
    it.each(['a', 'kvm-1', 'KVM-2', '7', 'rack4-node12', `a${'-'.repeat(61)}z`])('accepts %j', (name) => {
      expect(loadAgentConfig({ AGENT_HOST_NAME: name }).AGENT_HOST_NAME).toBe(name);
    });

    it.each([
      ['a leading hyphen', '-kvm'],
      ['a trailing hyphen', 'kvm-'],
      ['an underscore', 'kvm_1'],
      ['a dot (a full host name, not a label)', 'kvm1.example.com'],
      ['a colon (not a valid queue name)', 'kvm:1'],
      ['a space', 'kvm 1'],
      ['64 characters', 'a'.repeat(64)],
      ['an accented letter', 'kvé'],
    ])('refuses %s', (_label, name) => {
      const message = failure({ AGENT_HOST_NAME: name });
      expect(invalidVariables(message)).toEqual(['AGENT_HOST_NAME']);
      expect(message).toContain('AGENT_HOST_NAME must be a hostname label');
    });
  });

  it.each([...AGENT_DRIVERS])('accepts AGENT_DRIVER=%s', (driver) => {
    expect(loadAgentConfig({ AGENT_DRIVER: driver }).AGENT_DRIVER).toBe(driver);
  });

  it('knows the three drivers of the contract', () => {
    expect([...AGENT_DRIVERS].sort()).toEqual(['libvirt', 'qemu-img', 'simulator']);
  });

  it.each(['xen', 'QEMU-IMG', 'qemu'])('refuses AGENT_DRIVER=%j', (driver) => {
    expect(invalidVariables(failure({ AGENT_DRIVER: driver }))).toEqual(['AGENT_DRIVER']);
  });

  describe('SIMULATOR_FAILURE_RATE is a share from 0 to 1', () => {
    it.each([
      ['0', 0],
      ['0.5', 0.5],
      ['1', 1],
      ['1.0', 1],
    ])('accepts %j', (value, expected) => {
      expect(loadAgentConfig({ SIMULATOR_FAILURE_RATE: value }).SIMULATOR_FAILURE_RATE).toBe(expected);
    });

    it.each(['-0.01', '1.01', '2', 'abc', 'NaN', 'Infinity'])('refuses %j', (value) => {
      expect(invalidVariables(failure({ SIMULATOR_FAILURE_RATE: value }))).toEqual(['SIMULATOR_FAILURE_RATE']);
    });
  });

  it.each(['debug', 'info', 'warn', 'error'])('accepts LOG_LEVEL=%s', (level) => {
    expect(loadAgentConfig({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it.each(['verbose', 'fatal', 'Debug', 'silent'])('refuses LOG_LEVEL=%j', (level) => {
    expect(invalidVariables(failure({ LOG_LEVEL: level }))).toEqual(['LOG_LEVEL']);
  });

  it('writes JSON unless LOG_FORMAT asks for pretty lines', () => {
    expect(loadAgentConfig({}).LOG_FORMAT).toBe('json');
    expect(loadAgentConfig({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(invalidVariables(failure({ LOG_FORMAT: 'logfmt' }))).toEqual(['LOG_FORMAT']);
  });

  it('runs 1 to 64 jobs at once', () => {
    expect(loadAgentConfig({ AGENT_CONCURRENCY: '1' }).AGENT_CONCURRENCY).toBe(1);
    expect(invalidVariables(failure({ AGENT_CONCURRENCY: '0' }))).toEqual(['AGENT_CONCURRENCY']);
    expect(invalidVariables(failure({ AGENT_CONCURRENCY: '65' }))).toEqual(['AGENT_CONCURRENCY']);
    expect(invalidVariables(failure({ AGENT_CONCURRENCY: '2.5' }))).toEqual(['AGENT_CONCURRENCY']);
  });

  it('runs at least one snapshot operation at once, 2 by default', () => {
    expect(loadAgentConfig({}).AGENT_MAX_CONCURRENT_SNAPSHOTS).toBe(2);
    expect(loadAgentConfig({ AGENT_MAX_CONCURRENT_SNAPSHOTS: '1' }).AGENT_MAX_CONCURRENT_SNAPSHOTS).toBe(1);
    expect(loadAgentConfig({ AGENT_MAX_CONCURRENT_SNAPSHOTS: '16' }).AGENT_MAX_CONCURRENT_SNAPSHOTS).toBe(16);
    for (const value of ['0', '-1', '1.5', 'two']) {
      expect(invalidVariables(failure({ AGENT_MAX_CONCURRENT_SNAPSHOTS: value }))).toEqual([
        'AGENT_MAX_CONCURRENT_SNAPSHOTS',
      ]);
    }
  });

  it('bounds a read of secondary storage at 60 s by default, at least 1 s', () => {
    expect(loadAgentConfig({ AGENT_SECONDARY_READ_TIMEOUT_SECONDS: '5' }).AGENT_SECONDARY_READ_TIMEOUT_SECONDS).toBe(5);
    for (const value of ['0', '-1', '1.5', 'never']) {
      expect(invalidVariables(failure({ AGENT_SECONDARY_READ_TIMEOUT_SECONDS: value }))).toEqual([
        'AGENT_SECONDARY_READ_TIMEOUT_SECONDS',
      ]);
    }
  });

  it('wants a heartbeat of at least a second and a latency of at least 0 ms', () => {
    expect(invalidVariables(failure({ AGENT_HEARTBEAT_SECONDS: '0' }))).toEqual(['AGENT_HEARTBEAT_SECONDS']);
    expect(invalidVariables(failure({ SIMULATOR_LATENCY_MS: '-1' }))).toEqual(['SIMULATOR_LATENCY_MS']);
  });

  it('refuses an empty queue prefix only when it is really set (an empty variable means the default)', () => {
    expect(loadAgentConfig({ QUEUE_PREFIX: '' }).QUEUE_PREFIX).toBe('snapdeck');
  });

  it('lists every invalid variable in one error', () => {
    const message = failure({
      AGENT_HOST_NAME: '-bad-',
      AGENT_DRIVER: 'xen',
      SIMULATOR_FAILURE_RATE: '1.5',
      AGENT_CONCURRENCY: '100',
      AGENT_STORAGE_DIR: '/fine',
    });
    expect(invalidVariables(message).sort()).toEqual(
      ['AGENT_CONCURRENCY', 'AGENT_DRIVER', 'AGENT_HOST_NAME', 'SIMULATOR_FAILURE_RATE'].sort(),
    );
    expect(message).not.toContain('AGENT_STORAGE_DIR');
  });

  it('ignores variables it does not know', () => {
    const config = loadAgentConfig({ PATH: '/usr/bin', AGENT_HOST_NAME: 'kvm-3' });
    expect(config.AGENT_HOST_NAME).toBe('kvm-3');
    expect(config).not.toHaveProperty('PATH');
  });
});
