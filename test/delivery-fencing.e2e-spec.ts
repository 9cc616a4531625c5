import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { InProcessBus } from '@snapdeck/transport';
import { createTestDatabase, describeWith } from '@snapdeck/testing';
import { DeliveryFence, HeartbeatService, startAgent, VolumeDriver, type RunningAgent } from '@snapdeck/agent';
import { startApi } from '@snapdeck/api';
import { Redis } from 'ioredis';
import pg from 'pg';
import { diskSnapshotTags } from './support/disk.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { mustQuery } from './support/graphql-client.js';
import type { Stack } from './support/stack.js';
import { createTenant } from './support/tenants.js';

/**
 * An agent frozen past its lease (a SIGSTOP, simulated in this process: its heartbeats stop and a delivery
 * blocks until released) must not act on an attempt the api has given up on or sent again, and its late result
 * must not be applied; on the cluster transport (Redis fences) and the all-in-one one (the api answers).
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CREATE = `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id state } job { id } } }`;
const JOB = 'query($id: ID!) { job(id: $id) { status attempt } }';

/** A gate a test holds shut and opens once. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

interface Pair {
  url: string;
  token: string;
  environmentId: string;
  storageDir: string;
  agent: RunningAgent;
  sql: pg.Client;
  hostId: string;
  close(): Promise<void>;
}

async function startPair(transport: 'redis' | 'in-process'): Promise<Pair> {
  const database = await createTestDatabase();
  const root = await mkdtemp(join(tmpdir(), 'snapdeck-fencing-'));
  const prefix = `snapdeck-e2e-fence-${randomBytes(6).toString('hex')}`;
  const adminToken = `test-admin-${randomBytes(16).toString('hex')}`;
  const bus = transport === 'in-process' ? new InProcessBus() : undefined;
  const redisEnv = bus ? {} : { REDIS_URL, QUEUE_PREFIX: prefix };
  const apiConfig = loadApiConfig({
    ...redisEnv,
    DATABASE_URL: database.url,
    PORT: '0',
    SNAPDECK_ADMIN_TOKEN: adminToken,
    JOB_LEASE_SECONDS: '2',
    JOB_SEND_CLAIM_SECONDS: '2',
    RECONCILE_INTERVAL_SECONDS: '1',
    // The frozen host stays UP: the leases decide.
    HOST_DOWN_AFTER_SECONDS: '120',
    JOB_MAX_ATTEMPTS: '3',
  });
  const storageDir = join(root, 'primary');
  const agentConfig = loadAgentConfig({
    ...redisEnv,
    AGENT_HOST_NAME: 'kvm-frozen',
    AGENT_STORAGE_DIR: storageDir,
    SECONDARY_STORAGE_DIR: join(root, 'secondary'),
    AGENT_DRIVER: 'qemu-img',
    AGENT_HEARTBEAT_SECONDS: '1',
  });
  const quiet = process.env.E2E_LOG ? {} : { logger: false as const };
  const api: INestApplication = await startApi(apiConfig, { ...quiet, bus });
  const agent = await startAgent(agentConfig, { ...quiet, bus });
  const url = (await api.getUrl()).replace('[::1]', '127.0.0.1');
  const tenant = await createTenant({ url, adminToken });
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM hosts WHERE name = 'kvm-frozen'`);
  return {
    url,
    token: tenant.tokens.MEMBER,
    environmentId: tenant.environmentId,
    storageDir,
    agent,
    sql,
    hostId: rows[0].id,
    async close() {
      await agent.close();
      await api.close();
      await sql.end();
      await database.drop();
      await rm(root, { recursive: true, force: true });
      if (!bus) {
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    },
  };
}

/** Stops the agent's heartbeats: from the api's side it is frozen (its leases are no longer renewed). */
async function freezeHeartbeats(agent: RunningAgent): Promise<void> {
  await agent.app.get(HeartbeatService).stop();
}

/** Every createSnapshot the driver is asked for, by snapshot id; each blocks until `gate` opens (mid-operation). */
function holdCreates(agent: RunningAgent, gate: Gate): { calls: string[]; restore(): void } {
  const driver = agent.app.get(VolumeDriver);
  const real = driver.createSnapshot.bind(driver);
  const calls: string[] = [];
  driver.createSnapshot = async (volumeId, snapshotId, options) => {
    calls.push(snapshotId);
    await gate.opened;
    return real(volumeId, snapshotId, options);
  };
  return { calls, restore: () => (driver.createSnapshot = real) };
}

async function lateResults(sql: pg.Client, snapshotId: string): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(
    `SELECT count(*) AS n FROM events WHERE resource_id = $1 AND type = 'job.late_result'`,
    [snapshotId],
  );
  return Number(rows[0].n);
}

for (const transport of ['redis', 'in-process'] as const) {
  describeWith(transport === 'redis' ? ['redis', 'qemu-img'] : ['qemu-img'], `a frozen agent (${transport})`, () => {
    let pair: Pair;
    let volumeId: string;

    beforeAll(async () => {
      pair = await startPair(transport);
      const instance = await createInstance({ url: pair.url } as Stack, pair.token, {
        environmentId: pair.environmentId,
        name: `frozen-${transport}`,
      });
      volumeId = instance.volumes[0].id;
    });
    afterAll(() => pair?.close());

    it('does not run an attempt the api sent again while the agent held it, and the current one completes', async () => {
      const gate = new Gate();
      // Frozen after taking the delivery, before it asked its fence: attempt 1 waits here.
      const fence = pair.agent.app.get(DeliveryFence);
      const check = fence.check.bind(fence);
      const verdicts = new Map<number, string>();
      fence.check = async (jobId, attempt) => {
        if (attempt === 1) await gate.opened;
        const verdict = await check(jobId, attempt);
        verdicts.set(attempt, verdict);
        return verdict;
      };
      const driver = pair.agent.app.get(VolumeDriver);
      const create = driver.createSnapshot.bind(driver);
      const created: number[] = [];
      driver.createSnapshot = (v, s, o) => {
        created.push(Date.now());
        return create(v, s, o);
      };
      try {
        await freezeHeartbeats(pair.agent);
        const { createSnapshot } = await mustQuery<{
          createSnapshot: { snapshot: { id: string }; job: { id: string } };
        }>(pair.url, pair.token, CREATE, { v: volumeId });
        const snapshotId = createSnapshot.snapshot.id;
        // Its lease runs out: attempt 2 is sent (fenced first), taken and run; the snapshot completes.
        const done = await waitForSnapshot({ url: pair.url } as Stack, pair.token, snapshotId, 'COMPLETED');
        expect(done.state).toBe('COMPLETED');
        const { job } = await mustQuery<{ job: { status: string; attempt: number } }>(pair.url, pair.token, JOB, {
          id: createSnapshot.job.id,
        });
        expect(job).toEqual({ status: 'SUCCEEDED', attempt: 2 });

        // The agent thaws: attempt 1 finds itself stale and never reaches the disk.
        expect(verdicts.get(2)).toBe('current');
        gate.release();
        await waitUntil(() => verdicts.has(1));
        expect(verdicts.get(1)).toBe('stale');
        expect(created).toHaveLength(1);
        expect(await diskSnapshotTags(pair.storageDir, volumeId)).toEqual([snapshotId]);
        expect(await lateResults(pair.sql, snapshotId)).toBe(0);
      } finally {
        gate.release();
        fence.check = check;
        driver.createSnapshot = create;
      }
    });

    it('records, never applies, the late result of an attempt frozen mid-operation that the api failed', async () => {
      const gate = new Gate();
      const held = holdCreates(pair.agent, gate);
      const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string }; job: { id: string } } }>(
        pair.url,
        pair.token,
        CREATE,
        { v: volumeId },
      );
      const snapshotId = createSnapshot.snapshot.id;
      try {
        // Every attempt was current when it started and is frozen mid-operation; after the last the api gives up.
        const failed = await waitForSnapshot({ url: pair.url } as Stack, pair.token, snapshotId, 'ERROR', 30000);
        expect(failed.state).toBe('ERROR');
        expect(held.calls[0]).toBe(snapshotId);

        gate.release();
        await waitUntil(async () => (await lateResults(pair.sql, snapshotId)) >= 1);
        // The late success is not applied: the snapshot stays ERROR. The tag it wrote has no owner (an ERROR row
        // owns none): the late result opened REPAIR_STORAGE, which removes it (late-create-cleanup.ts).
        const after = await waitForSnapshot({ url: pair.url } as Stack, pair.token, snapshotId, 'ERROR');
        expect(after.state).toBe('ERROR');
        await waitUntil(async () => !(await diskSnapshotTags(pair.storageDir, volumeId)).includes(snapshotId));
        expect((await waitForSnapshot({ url: pair.url } as Stack, pair.token, snapshotId, 'ERROR')).state).toBe(
          'ERROR',
        );
      } finally {
        gate.release();
        held.restore();
      }
    });
  });
}

async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
