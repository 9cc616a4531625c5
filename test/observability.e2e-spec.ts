import { describeWith } from '@snapdeck/testing';
import { eventually, mustQuery } from './support/graphql-client.js';
import { createInstance, SNAPSHOT_FIELDS, waitForSnapshot } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const CREATE = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { ${SNAPSHOT_FIELDS} } job { id status } } }`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function sample(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    ?.value;
}

describeWith(['redis', 'qemu-img'], 'what operators see: health, readiness and Prometheus metrics', () => {
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    tenant = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  const get = (path: string) => fetch(`${stack.url}${path}`);

  it('answers /health 200 with the database and the queue up, without a token', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, queue: { status: 'up' } },
      error: {},
    });
  });

  it('answers /ready 200 once the migrations are applied', async () => {
    const res = await get('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, queue: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('exposes job duration, hosts, snapshots, queue depth and GraphQL latency after a snapshot', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'observed-1',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: root.id, name: 'observed' },
    });
    await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await res.text());

    const jobs = sample(samples, 'snapdeck_job_duration_seconds_count', {
      type: 'create-snapshot',
      status: 'SUCCEEDED',
    });
    expect(jobs).toBeGreaterThanOrEqual(1);
    const jobSeconds = sample(samples, 'snapdeck_job_duration_seconds_sum', {
      type: 'create-snapshot',
      status: 'SUCCEEDED',
    });
    expect(jobSeconds).toBeGreaterThan(0);

    expect(sample(samples, 'snapdeck_snapshots', { state: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, 'snapdeck_snapshots', { state: 'ERROR' })).toBe(0);
    expect(sample(samples, 'snapdeck_hosts', { state: 'UP' })).toBe(1);
    expect(sample(samples, 'snapdeck_hosts', { state: 'DOWN' })).toBe(0);
    // The snapshot is done, so nothing is left in kvm-a's queue; the series exists because the host does.
    expect(sample(samples, 'snapdeck_queue_depth', { host: 'kvm-a' })).toBe(0);

    expect(
      sample(samples, 'snapdeck_graphql_request_duration_seconds_count', {
        operation: 'createSnapshot',
        outcome: 'success',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.name.startsWith('snapdeck_api_process_'))).toBe(true);
  });

  it('counts queued deliveries per host while no agent consumes them', async () => {
    const agent = stack.agents.get('kvm-a')!;
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'observed-2',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    await agent.close();
    stack.agents.delete('kvm-a');
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: root.id, name: 'queued' },
    });
    expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
    const depth = await eventually(
      async () => {
        const samples = parseExposition(await (await get('/metrics')).text());
        const value = sample(samples, 'snapdeck_queue_depth', { host: 'kvm-a' });
        return value !== undefined && value > 0 ? value : undefined;
      },
      10000,
      'the delivery to show in the queue depth',
    );
    expect(depth).toBe(1);
  });
});
