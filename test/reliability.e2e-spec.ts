import type { INestApplication } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import {
  deliveryId,
  hostQueueName,
  JobName,
  RESULTS_QUEUE,
  ResultKind,
  type JobFinishedMessage,
} from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startApi } from '@snapdeck/api';
import { diskSnapshotTags } from './support/disk.js';
import {
  createInstance,
  SNAPSHOT_FIELDS,
  snapshotById as findSnapshot,
  waitForSnapshot as waitForAny,
} from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

/**
 * "Nothing lost, nothing stuck", end to end on real PostgreSQL, Redis and agents: slow and failing drivers,
 * hosts that stop, messages that are lost or repeated, and an api that restarts with work in flight.
 */

const CREATE = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { ${SNAPSHOT_FIELDS} } job { id status attempt } } }`;
const DELETE = `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id state } job { id status } } }`;
const CREATE_INSTANCE = `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } job { id } } }`;
const JOB = `query($id: ID!) { job(id: $id) { id type status error attempt } }`;

interface SnapshotView {
  id: string;
  name: string;
  state: string;
  error: string | null;
  completedAt: string | null;
  volume: { id: string; state: string };
  job: { id: string; status: string; error: string | null };
}
interface CreatePayload {
  createSnapshot: { snapshot: SnapshotView; job: { id: string; status: string; attempt: number } };
}
interface DeletePayload {
  deleteSnapshot: { snapshot: { id: string; state: string }; job: { id: string; status: string } };
}

async function snapshotById(stack: Stack, token: string, id: string): Promise<SnapshotView | null> {
  return (await findSnapshot(stack, token, id)) as SnapshotView | null;
}

async function waitForSnapshot(stack: Stack, token: string, id: string, state: string | null): Promise<SnapshotView> {
  return (await waitForAny(stack, token, id, state)) as SnapshotView;
}

const SIMULATOR = { AGENT_DRIVER: 'simulator', SIMULATOR_LATENCY_MS: '20' };

async function hostState(stack: Stack, hostName: string): Promise<{ id: string; state: string } | undefined> {
  const data = await mustQuery<{ hosts: { edges: Array<{ node: { id: string; name: string; state: string } }> } }>(
    stack.url,
    stack.adminToken,
    '{ hosts(first: 100) { edges { node { id name state } } } }',
  );
  return data.hosts.edges.find((e) => e.node.name === hostName)?.node;
}

async function jobById(stack: Stack, token: string, id: string) {
  return (
    await mustQuery<{ job: { id: string; type: string; status: string; error: string | null; attempt: number } }>(
      stack.url,
      token,
      JOB,
      { id },
    )
  ).job;
}

function openSql(stack: Stack): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: stack.apiConfig.DATABASE_URL });
  return client.connect().then(() => client);
}

async function count(sql: pg.Client, query: string, params: unknown[] = []): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(query, params);
  return Number(rows[0].n);
}

/** Every row count and state that a refused request must leave as it was. */
async function fingerprint(sql: pg.Client): Promise<unknown> {
  const tables = ['jobs', 'snapshots', 'instances', 'volumes', 'events'];
  const counts: number[] = [];
  for (const t of tables) counts.push(await count(sql, `SELECT count(*) AS n FROM ${t}`));
  const states = await sql.query(
    `SELECT 'snapshot' AS kind, id, state, error FROM snapshots
     UNION ALL SELECT 'volume', id, state, NULL FROM volumes
     UNION ALL SELECT 'instance', id, state, NULL FROM instances
     UNION ALL SELECT 'job', id, status, error FROM jobs
     ORDER BY 1, 2`,
  );
  return { counts: Object.fromEntries(tables.map((t, i) => [t, counts[i]])), rows: states.rows };
}

function bullConnection(stack: Stack): Redis {
  return new Redis(stack.apiConfig.REDIS_URL, { maxRetriesPerRequest: null });
}

/** A second api on the same database, Redis prefix and port as the stack's first one (which must be closed). */
async function restartApi(stack: Stack): Promise<INestApplication> {
  const port = new URL(stack.url).port;
  // Back to environment strings: DEFAULT_ORGANIZATION_LIMITS is read as JSON.
  const env = Object.fromEntries(
    Object.entries(stack.apiConfig).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
  );
  const app = await startApi(loadApiConfig({ ...env, PORT: port }), process.env.E2E_LOG ? {} : { logger: false });
  return app;
}

describeWith(['redis'], 'reliability with simulator agents', () => {
  let stack: Stack;
  let tenant: Tenant;
  let sql: pg.Client;
  let redis: Redis;
  let slowVolumeId: string;
  let restartedApi: INestApplication | undefined;

  beforeAll(async () => {
    stack = await startStack();
    tenant = await createTenant(stack);
    sql = await openSql(stack);
    redis = bullConnection(stack);
  });
  afterAll(async () => {
    await sql?.end();
    redis?.disconnect();
    await restartedApi?.close();
    await stack?.close();
  });

  it('shows a slow snapshot In progress, refuses to delete it (CONFLICT, nothing changes), then completes it', async () => {
    await stack.startAgent('sim-slow', { ...SIMULATOR, SIMULATOR_LATENCY_MS: '1500' });
    const hostId = await stack.hostId('sim-slow');
    const token = tenant.tokens.MEMBER;
    const instance = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'slow-1',
      hostId,
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;

    const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId: root.id, name: 'slow' },
    });
    const id = createSnapshot.snapshot.id;
    expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
    expect(createSnapshot.snapshot.volume.state).toBe('SNAPSHOTTING');

    expect(await errorCodes(stack.url, token, DELETE, { id })).toEqual(['CONFLICT']);
    // One operation per volume: a second snapshot is refused as well.
    expect(await errorCodes(stack.url, token, CREATE, { input: { volumeId: root.id } })).toEqual(['CONFLICT']);
    // Nothing was recorded for the refused requests: one job, one snapshot, no delete anywhere.
    expect(await count(sql, 'SELECT count(*) AS n FROM jobs WHERE resource_id = $1', [id])).toBe(1);
    expect(await count(sql, `SELECT count(*) AS n FROM jobs WHERE type = 'delete-snapshot'`)).toBe(0);
    expect(await count(sql, 'SELECT count(*) AS n FROM snapshots WHERE volume_id = $1', [root.id])).toBe(1);
    expect(
      await count(sql, `SELECT count(*) AS n FROM events WHERE resource_id = $1 AND type LIKE 'snapshot.delete%'`, [
        id,
      ]),
    ).toBe(0);
    const meanwhile = await snapshotById(stack, token, id);
    expect(meanwhile!.job.id).toBe(createSnapshot.job.id);
    expect(['IN_PROGRESS', 'COMPLETED']).toContain(meanwhile!.state);

    const done = await waitForSnapshot(stack, token, id, 'COMPLETED');
    expect(done.volume.state).toBe('READY');
    expect(done.job).toMatchObject({ id: createSnapshot.job.id, status: 'SUCCEEDED', error: null });
    expect(done.error).toBeNull();
    expect((await jobById(stack, token, createSnapshot.job.id)).attempt).toBe(1);
    slowVolumeId = root.id;
  });

  it('reports the job in the createSnapshot payload as it is after dispatch (attempt 1, as job(id) says)', async () => {
    const token = tenant.tokens.MEMBER;
    const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId: slowVolumeId },
    });
    const stored = await jobById(stack, token, createSnapshot.job.id);
    await waitForSnapshot(stack, token, createSnapshot.snapshot.id, 'COMPLETED');
    expect(stored.attempt).toBe(1);
    expect(createSnapshot.job.attempt).toBe(stored.attempt);
  });

  describe('a driver that always fails', () => {
    let flakyHostId: string;
    let volumeId: string;
    let errorSnapshotId: string;

    beforeAll(async () => {
      // Provision with a healthy simulator, then run the same host with one that fails every operation.
      await stack.startAgent('sim-flaky', SIMULATOR);
      flakyHostId = await stack.hostId('sim-flaky');
      const instance = await createInstance(stack, tenant.tokens.MEMBER, {
        environmentId: tenant.environmentId,
        name: 'flaky-1',
        hostId: flakyHostId,
      });
      volumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
      await stack.agents.get('sim-flaky')!.close();
      await stack.startAgent('sim-flaky', { ...SIMULATOR, SIMULATOR_FAILURE_RATE: '1' });
    });

    it('ends a snapshot ERROR with a readable error, its job FAILED with the same message, the volume READY', async () => {
      const token = tenant.tokens.MEMBER;
      const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
        input: { volumeId, name: 'doomed' },
      });
      errorSnapshotId = createSnapshot.snapshot.id;
      const failed = await waitForSnapshot(stack, token, errorSnapshotId, 'ERROR');
      expect(failed.error).toMatch(/^Simulated failure: could not create snapshot .+ of volume .+/);
      expect(failed.error).not.toMatch(/\n|\bat .+\.js:\d+/);
      expect(failed.job).toMatchObject({ id: createSnapshot.job.id, status: 'FAILED', error: failed.error });
      expect(failed.volume.state).toBe('READY');
      expect(failed.completedAt).toBeNull();
      const { rows } = await sql.query('SELECT type, message FROM events WHERE resource_id = $1', [errorSnapshotId]);
      expect(rows).toEqual([{ type: 'snapshot.failed', message: `Snapshot failed: ${failed.error}` }]);

      // The volume is free again: the next attempt is accepted (and fails the same way).
      const { createSnapshot: next } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
        input: { volumeId },
      });
      expect(next.snapshot.state).toBe('IN_PROGRESS');
      await waitForSnapshot(stack, token, next.snapshot.id, 'ERROR');
    });

    it('keeps a snapshot that never reached the disk out of COMPLETED when its delete fails too', async () => {
      const token = tenant.tokens.MEMBER;
      const { deleteSnapshot } = await mustQuery<DeletePayload>(stack.url, token, DELETE, { id: errorSnapshotId });
      expect(deleteSnapshot.snapshot.state).toBe('DESTROYING');
      const job = await eventually(
        async () => {
          const j = await jobById(stack, token, deleteSnapshot.job.id);
          return j.status === 'FAILED' || j.status === 'SUCCEEDED' ? j : null;
        },
        20000,
        'the delete job to finish',
      );
      expect(job.status).toBe('FAILED');
      const after = await snapshotById(stack, token, errorSnapshotId);
      expect(after!.error).toMatch(/Simulated failure: could not delete snapshot/);
      expect(after!.completedAt).toBeNull();
      expect(after!.state).toBe('ERROR');
    });
  });

  it('applies the same JobFinished message, delivered twice at once, exactly once', async () => {
    const token = tenant.tokens.MEMBER;
    await stack.startAgent('sim-dup', SIMULATOR);
    const hostId = await stack.hostId('sim-dup');
    const instance = await createInstance(stack, token, { environmentId: tenant.environmentId, name: 'dup-1', hostId });
    const volumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
    // No agent consumes the host's queue now (it stays UP for a minute), so only our messages answer the job.
    await stack.agents.get('sim-dup')!.close();

    const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId, name: 'twice' },
    });
    const snapshotId = createSnapshot.snapshot.id;
    const jobId = createSnapshot.job.id;
    expect(await jobById(stack, token, jobId)).toMatchObject({ status: 'PENDING', attempt: 1 });
    const eventsBefore = await count(sql, 'SELECT count(*) AS n FROM events WHERE resource_id = $1', [snapshotId]);

    const results = new Queue(RESULTS_QUEUE, { connection: redis, prefix: stack.apiConfig.QUEUE_PREFIX });
    try {
      const message: JobFinishedMessage<JobName.CREATE_SNAPSHOT> = {
        kind: ResultKind.FINISHED,
        jobId,
        attempt: 1,
        hostName: 'sim-dup',
        name: JobName.CREATE_SNAPSHOT,
        outcome: { ok: true, data: { snapshotId, alreadyExisted: false, sizeBytes: null }, message: 'Snapshot taken' },
        at: new Date().toISOString(),
      };
      const deliveries = await Promise.all([results.add(message.kind, message), results.add(message.kind, message)]);
      expect(new Set(deliveries.map((d) => d.id)).size).toBe(2);
      await eventually(
        async () => {
          const states = await Promise.all(deliveries.map((d) => results.getJobState(d.id!)));
          if (states.includes('failed')) throw new Error(`a result delivery failed: ${states.join(', ')}`);
          return states.every((s) => s === 'completed');
        },
        20000,
        'both deliveries to be applied',
      );

      const snapshot = await snapshotById(stack, token, snapshotId);
      expect(snapshot).toMatchObject({
        state: 'COMPLETED',
        error: null,
        volume: { state: 'READY' },
        job: { status: 'SUCCEEDED' },
      });
      const { rows } = await sql.query('SELECT type FROM events WHERE resource_id = $1 AND type = $2', [
        snapshotId,
        'snapshot.completed',
      ]);
      expect(rows).toHaveLength(1);
      expect(await count(sql, 'SELECT count(*) AS n FROM events WHERE resource_id = $1', [snapshotId])).toBe(
        eventsBefore + 1,
      );
      const stateAfterFirst = await fingerprint(sql);

      // A late, contradicting result for the closed job changes nothing either; it is recorded (job.late_result).
      const late = await results.add(ResultKind.FINISHED, {
        ...message,
        outcome: { ok: false, message: 'too late' },
        at: new Date().toISOString(),
      });
      await eventually(
        async () => (await results.getJobState(late.id!)) === 'completed',
        20000,
        'the late result to be handled',
      );
      type Fingerprint = { counts: Record<string, number>; rows: unknown };
      const before = stateAfterFirst as Fingerprint;
      const after = (await fingerprint(sql)) as Fingerprint;
      expect(after.rows).toEqual(before.rows);
      expect(after.counts).toEqual({ ...before.counts, events: before.counts.events + 1 });
      expect(
        await count(sql, `SELECT count(*) AS n FROM events WHERE resource_id = $1 AND type = 'job.late_result'`, [
          snapshotId,
        ]),
      ).toBe(1);
    } finally {
      await results.close();
    }
  });

  it('applies a result that Redis lost while the api was away, from the agent outbox, long before the lease', async () => {
    const token = tenant.tokens.MEMBER;
    await stack.startAgent('sim-outbox', { ...SIMULATOR, AGENT_RESULT_RESEND_SECONDS: '1' });
    const hostId = await stack.hostId('sim-outbox');
    const instance = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'outbox-1',
      hostId,
    });
    const hostQueue = new Queue(hostQueueName('sim-outbox'), {
      connection: redis,
      prefix: stack.apiConfig.QUEUE_PREFIX,
    });
    const results = new Queue(RESULTS_QUEUE, { connection: redis, prefix: stack.apiConfig.QUEUE_PREFIX });
    try {
      await hostQueue.pause();
      const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
        input: { volumeId: instance.volumes[0].id },
      });
      // The api goes away; the agent does the work and publishes its result, which Redis then loses.
      await stack.app.close();
      await hostQueue.resume();
      const resultId = `${createSnapshot.job.id}.1.${ResultKind.FINISHED}`;
      await eventually(async () => (await results.getJob(resultId)) !== undefined, 20000, 'the result to be queued');
      await results.obliterate({ force: true });

      // The api is back (lease 300 s): the outbox publishes the result again and the api applies it.
      restartedApi = await restartApi(stack);
      const done = (await waitForAny(stack, token, createSnapshot.snapshot.id, 'COMPLETED', 30000)) as SnapshotView;
      expect(done.job.status).toBe('SUCCEEDED');
      expect((await jobById(stack, token, createSnapshot.job.id)).attempt).toBe(1);
    } finally {
      await hostQueue.close();
      await results.close();
    }
  });

  it('re-sends at once the PENDING jobs whose deliveries Redis lost with its data, long before their lease', async () => {
    const token = tenant.tokens.MEMBER;
    await stack.startAgent('sim-flushed', SIMULATOR);
    const hostId = await stack.hostId('sim-flushed');
    const instance = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'flushed-1',
      hostId,
      dataDiskSizesGiB: [1],
    });
    // The agent takes nothing for now (its simulated volumes live in its memory: it keeps running).
    const hostQueue = new Queue(hostQueueName('sim-flushed'), {
      connection: redis,
      prefix: stack.apiConfig.QUEUE_PREFIX,
    });
    await hostQueue.pause();
    await hostQueue.close();
    const jobs: string[] = [];
    const snapshots: string[] = [];
    for (const volume of instance.volumes) {
      const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
        input: { volumeId: volume.id },
      });
      jobs.push(createSnapshot.job.id);
      snapshots.push(createSnapshot.snapshot.id);
    }
    // Redis comes back empty (a restart without its AOF, or a FLUSHALL of our prefix): the queued deliveries are
    // gone, and so are the api's epoch key, fences and acks.
    const keys = await redis.keys(`${stack.apiConfig.QUEUE_PREFIX}:*`);
    await redis.del(...keys);

    // The lease is 300 s here: only the api noticing the lost epoch (at its next pass) sends them again.
    for (const [i, snapshotId] of snapshots.entries()) {
      const done = (await waitForAny(stack, token, snapshotId, 'COMPLETED', 40000)) as SnapshotView;
      expect(done.job.status).toBe('SUCCEEDED');
      expect((await jobById(stack, token, jobs[i])).attempt).toBe(2);
    }
  });
});

const SHORT_LEASES = 'reliability with short leases: hosts that stop, lost messages, an api restart';
describeWith(['redis', 'qemu-img'], SHORT_LEASES, () => {
  const LEASE = {
    JOB_LEASE_SECONDS: '2',
    RECONCILE_INTERVAL_SECONDS: '1',
    HOST_DOWN_AFTER_SECONDS: '3',
    JOB_MAX_ATTEMPTS: '2',
  };
  let stack: Stack;
  let tenant: Tenant;
  let sql: pg.Client;
  let redis: Redis;
  let restartedApi: INestApplication | undefined;

  beforeAll(async () => {
    stack = await startStack({ apiEnv: LEASE });
    tenant = await createTenant(stack);
    sql = await openSql(stack);
    redis = bullConnection(stack);
  });
  afterAll(async () => {
    await sql?.end();
    redis?.disconnect();
    await restartedApi?.close();
    await stack?.close();
  });

  describe('a host whose agent stops', () => {
    const HOST = 'kvm-gone';
    let hostId: string;
    let rootId: string;
    let dataId: string;
    let completedId: string;
    let stuckId: string;
    let stuckJobId: string;

    beforeAll(async () => {
      await stack.startAgent(HOST);
      hostId = await stack.hostId(HOST);
      const instance = await createInstance(stack, tenant.tokens.MEMBER, {
        environmentId: tenant.environmentId,
        name: 'gone-1',
        hostId,
        dataDiskSizesGiB: [1],
      });
      rootId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
      dataId = instance.volumes.find((v) => v.type === 'DATADISK')!.id;
      const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, tenant.tokens.MEMBER, CREATE, {
        input: { volumeId: dataId },
      });
      completedId = createSnapshot.snapshot.id;
      await waitForSnapshot(stack, tenant.tokens.MEMBER, completedId, 'COMPLETED');

      // The agent stops; before the host is seen DOWN, a snapshot is asked for that no agent will take.
      await stack.agents.get(HOST)!.close();
      const { createSnapshot: stuck } = await mustQuery<CreatePayload>(stack.url, tenant.tokens.MEMBER, CREATE, {
        input: { volumeId: rootId, name: 'orphan' },
      });
      expect(stuck.snapshot.state).toBe('IN_PROGRESS');
      stuckId = stuck.snapshot.id;
      stuckJobId = stuck.job.id;
    });

    it('is DOWN once its heartbeats stop, and the snapshot it never took ends ERROR with the volume READY', async () => {
      const token = tenant.tokens.MEMBER;
      await eventually(async () => (await hostState(stack, HOST))?.state === 'DOWN', 20000, `${HOST} to be DOWN`);
      const failed = await waitForSnapshot(stack, token, stuckId, 'ERROR');
      expect(failed.error).toMatch(
        new RegExp(`^(Host ${HOST} is down: no heartbeat since|No result from host ${HOST} after \\d+ attempt)`),
      );
      expect(failed.volume.state).toBe('READY');
      const job = await jobById(stack, token, stuckJobId);
      expect(job).toMatchObject({ status: 'FAILED', error: failed.error });
      expect(job.attempt).toBeGreaterThanOrEqual(1);
      expect(job.attempt).toBeLessThanOrEqual(2);
      expect(
        await count(sql, `SELECT count(*) AS n FROM events WHERE resource_id = $1 AND type = 'snapshot.failed'`, [
          stuckId,
        ]),
      ).toBe(1);
    });

    it('refuses new work for the DOWN host with PRECONDITION_FAILED and changes nothing', async () => {
      const token = tenant.tokens.MEMBER;
      await eventually(async () => (await hostState(stack, HOST))?.state === 'DOWN', 20000, `${HOST} to be DOWN`);
      const before = await fingerprint(sql);
      expect(await errorCodes(stack.url, token, CREATE, { input: { volumeId: dataId } })).toEqual([
        'PRECONDITION_FAILED',
      ]);
      expect(await errorCodes(stack.url, token, CREATE, { input: { volumeId: rootId } })).toEqual([
        'PRECONDITION_FAILED',
      ]);
      expect(
        await errorCodes(stack.url, token, CREATE_INSTANCE, {
          input: { environmentId: tenant.environmentId, name: 'gone-2', hostId, rootDiskSizeGiB: 1 },
        }),
      ).toEqual(['PRECONDITION_FAILED']);
      expect(await errorCodes(stack.url, token, DELETE, { id: completedId })).toEqual(['PRECONDITION_FAILED']);
      expect(await errorCodes(stack.url, token, DELETE, { id: stuckId })).toEqual(['PRECONDITION_FAILED']);
      expect(await fingerprint(sql)).toEqual(before);
      expect((await snapshotById(stack, token, completedId))!.state).toBe('COMPLETED');
    });

    it('is UP under the same id when its agent returns, and the ERROR snapshot can then be deleted from rows and disk', async () => {
      const token = tenant.tokens.MEMBER;
      const agent = await stack.startAgent(HOST);
      expect(await stack.hostId(HOST)).toBe(hostId);
      const { deleteSnapshot } = await mustQuery<DeletePayload>(stack.url, token, DELETE, { id: stuckId });
      expect(deleteSnapshot.snapshot.state).toBe('DESTROYING');
      await waitForSnapshot(stack, token, stuckId, null);
      expect((await jobById(stack, token, deleteSnapshot.job.id)).status).toBe('SUCCEEDED');
      expect(await count(sql, 'SELECT count(*) AS n FROM snapshots WHERE id = $1', [stuckId])).toBe(0);

      // Once the host queue is drained, the disk agrees with the rows: only the COMPLETED snapshot is there.
      const hostQueue = new Queue(hostQueueName(HOST), { connection: redis, prefix: stack.apiConfig.QUEUE_PREFIX });
      try {
        await eventually(
          async () => {
            const counts = await hostQueue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
            return Object.values(counts).every((n) => n === 0);
          },
          20000,
          `the queue of ${HOST} to drain`,
        );
      } finally {
        await hostQueue.close();
      }
      expect(await diskSnapshotTags(agent.storageDir, rootId)).toEqual([]);
      expect(await diskSnapshotTags(agent.storageDir, dataId)).toEqual([completedId]);
      const { rows } = await sql.query('SELECT state FROM volumes WHERE id = ANY($1) ORDER BY id', [[rootId, dataId]]);
      expect(rows).toEqual([{ state: 'READY' }, { state: 'READY' }]);
    });
  });

  it('keeps the leases of jobs queued behind a slow one on a busy host: none is sent again, each runs once', async () => {
    const HOST = 'sim-busy-queue';
    const token = tenant.tokens.MEMBER;
    // One job at a time, each longer than half a lease: the last waits in the host queue for several leases.
    await stack.startAgent(HOST, { ...SIMULATOR, AGENT_CONCURRENCY: '1', SIMULATOR_LATENCY_MS: '1500' });
    const hostId = await stack.hostId(HOST);
    const instance = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'queue-1',
      hostId,
      dataDiskSizesGiB: [1, 1, 1],
    });
    const created = await Promise.all(
      instance.volumes.map((volume) =>
        mustQuery<CreatePayload>(stack.url, token, CREATE, { input: { volumeId: volume.id } }),
      ),
    );
    for (const { createSnapshot } of created) {
      const done = (await waitForAny(stack, token, createSnapshot.snapshot.id, 'COMPLETED', 40000)) as SnapshotView;
      expect(done.job.status).toBe('SUCCEEDED');
      expect((await jobById(stack, token, createSnapshot.job.id)).attempt).toBe(1);
    }
  });

  it('re-dispatches a job whose delivery was lost once its lease runs out, and a restarted agent completes it', async () => {
    const HOST = 'kvm-lost';
    const token = tenant.tokens.MEMBER;
    await stack.startAgent(HOST);
    const hostId = await stack.hostId(HOST);
    const instance = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'lost-1',
      hostId,
    });
    const rootId = instance.volumes.find((v) => v.type === 'ROOT')!.id;

    // The agent stops with a delivery on its way, and the delivery is lost with it.
    await stack.agents.get(HOST)!.close();
    const { createSnapshot } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId: rootId, name: 'resent' },
    });
    const snapshotId = createSnapshot.snapshot.id;
    const jobId = createSnapshot.job.id;
    const hostQueue = new Queue(hostQueueName(HOST), { connection: redis, prefix: stack.apiConfig.QUEUE_PREFIX });
    try {
      expect(await hostQueue.remove(deliveryId(jobId, 1))).toBe(1);
    } finally {
      await hostQueue.close();
    }
    const agent = await stack.startAgent(HOST);
    expect(await stack.hostId(HOST)).toBe(hostId);

    const done = await waitForSnapshot(stack, token, snapshotId, 'COMPLETED');
    expect(done.volume.state).toBe('READY');
    const job = await jobById(stack, token, jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempt).toBeGreaterThanOrEqual(2);
    expect(await diskSnapshotTags(agent.storageDir, rootId)).toEqual([snapshotId]);
    expect(
      await count(sql, `SELECT count(*) AS n FROM events WHERE resource_id = $1 AND type = 'snapshot.completed'`, [
        snapshotId,
      ]),
    ).toBe(1);
  });

  it('loses nothing across an api restart: results sent meanwhile are applied, work nobody will do is failed', async () => {
    const token = tenant.tokens.MEMBER;
    // A live agent that is still working when the api stops.
    await stack.startAgent('sim-busy', { ...SIMULATOR, SIMULATOR_LATENCY_MS: '1500' });
    const busyHost = await stack.hostId('sim-busy');
    const busy = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'busy-1',
      hostId: busyHost,
    });
    // A host whose agent is gone, with a job pending on it.
    await stack.startAgent('kvm-idle');
    const idleHost = await stack.hostId('kvm-idle');
    const idle = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'idle-1',
      hostId: idleHost,
    });
    await stack.agents.get('kvm-idle')!.close();

    const { createSnapshot: inFlight } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId: busy.volumes[0].id, name: 'in-flight' },
    });
    const { createSnapshot: abandoned } = await mustQuery<CreatePayload>(stack.url, token, CREATE, {
      input: { volumeId: idle.volumes[0].id, name: 'abandoned' },
    });
    expect(inFlight.snapshot.state).toBe('IN_PROGRESS');
    expect(abandoned.snapshot.state).toBe('IN_PROGRESS');

    await stack.app.close();
    restartedApi = await restartApi(stack);

    const completed = await waitForSnapshot(stack, token, inFlight.snapshot.id, 'COMPLETED');
    expect(completed.volume.state).toBe('READY');
    expect(completed.job.status).toBe('SUCCEEDED');
    const failed = await waitForSnapshot(stack, token, abandoned.snapshot.id, 'ERROR');
    expect(failed.error).toMatch(/^(Host kvm-idle is down|No result from host kvm-idle after)/);
    expect(failed.volume.state).toBe('READY');
    expect(failed.job.status).toBe('FAILED');

    // Nothing anywhere is left open.
    await eventually(
      async () => (await count(sql, `SELECT count(*) AS n FROM jobs WHERE status IN ('PENDING', 'RUNNING')`)) === 0,
      20000,
      'every job to close',
    );
    expect(await count(sql, `SELECT count(*) AS n FROM snapshots WHERE state IN ('IN_PROGRESS', 'DESTROYING')`)).toBe(
      0,
    );
    expect(await count(sql, `SELECT count(*) AS n FROM volumes WHERE state <> 'READY'`)).toBe(0);
  });
});
