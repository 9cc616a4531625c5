import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type AgentConfig, loadAgentConfig } from '@snapdeck/config';
import {
  AGENT_EVENTS_QUEUE,
  type AgentEvent,
  AgentEventKind,
  deliveryId,
  FENCE_CLOSED,
  fenceKey,
  hostQueueName,
  type JobEnvelope,
  type JobFinishedMessage,
  JobName,
  RESULTS_QUEUE,
  resultAcksKey,
  type ResultMessage,
  ResultKind,
} from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type RunningAgent, startAgent } from './bootstrap.js';
import { leakClusters, misplaceL2Table } from './drivers/qemu-img/qcow2-damage.test-support.js';

const anyString: unknown = expect.any(String);
const versionString: unknown = expect.stringMatching(/^\d+\.\d+\.\d+/);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = promisify(execFile);

/** Reads one queue the way the api would, keeping every message in arrival order. */
class Collector<T, N extends string> {
  readonly messages: { name: N; data: T }[] = [];
  private readonly worker: Worker<T, void, N>;
  private readonly waiters = new Set<() => void>();

  constructor(queue: string, prefix: string, connection: Redis) {
    this.worker = new Worker<T, void, N>(
      queue,
      (job) => {
        this.messages.push({ name: job.name, data: job.data });
        for (const wake of this.waiters) wake();
        return Promise.resolve();
      },
      { connection, prefix, concurrency: 1 },
    );
  }

  async waitFor(predicate: (message: { name: N; data: T }) => boolean, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found.data;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}

/** Each test gets its own key prefix, host name and storage: nothing collides with other runs or tests. */
class Harness {
  readonly prefix = `snapdeck-test-agent-${randomBytes(6).toString('hex')}`;
  readonly hostName = `kvm-${randomBytes(4).toString('hex')}`;
  readonly redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  storageDir = '';
  results!: Collector<ResultMessage, ResultKind>;
  events!: Collector<AgentEvent, AgentEventKind>;
  hostQueue!: Queue<JobEnvelope, void, JobName>;
  agent?: RunningAgent;

  async setUp(): Promise<void> {
    this.storageDir = await mkdtemp(join(tmpdir(), 'snapdeck-agent-'));
    this.results = new Collector(RESULTS_QUEUE, this.prefix, this.redis);
    this.events = new Collector(AGENT_EVENTS_QUEUE, this.prefix, this.redis);
    this.hostQueue = new Queue(hostQueueName(this.hostName), { connection: this.redis, prefix: this.prefix });
  }

  config(env: Record<string, string> = {}): AgentConfig {
    return loadAgentConfig({
      REDIS_URL,
      QUEUE_PREFIX: this.prefix,
      AGENT_HOST_NAME: this.hostName,
      AGENT_STORAGE_DIR: this.storageDir,
      AGENT_DRIVER: 'qemu-img',
      AGENT_HEARTBEAT_SECONDS: '1',
      ...env,
    });
  }

  async start(env: Record<string, string> = {}): Promise<RunningAgent> {
    this.agent = await startAgent(this.config(env), { logger: ['error'] });
    return this.agent;
  }

  /** Dispatches a job the way the api does: the envelope as data, the job name as name. */
  async dispatch(envelope: JobEnvelope, queueJobId?: string): Promise<string> {
    const job = await this.hostQueue.add(envelope.name, envelope, {
      jobId: queueJobId ?? deliveryId(envelope.jobId, envelope.attempt),
    });
    return job.id ?? '';
  }

  finished(jobId: string, attempt = 1): Promise<JobFinishedMessage> {
    return this.results.waitFor(
      (m) => m.name === ResultKind.FINISHED && m.data.jobId === jobId && m.data.attempt === attempt,
    ) as Promise<JobFinishedMessage>;
  }

  /** Every FINISHED message of one Job row, in arrival order. */
  finishedOf(jobId: string): JobFinishedMessage[] {
    return this.results.messages
      .map((m) => m.data)
      .filter((m): m is JobFinishedMessage => m.kind === ResultKind.FINISHED && m.jobId === jobId);
  }

  async tearDown(): Promise<void> {
    await this.agent?.close();
    await this.results.close();
    await this.events.close();
    await this.hostQueue.close();
    const keys = await this.redis.keys(`${this.prefix}:*`);
    if (keys.length > 0) await this.redis.del(...keys);
    await this.redis.quit();
    await rm(this.storageDir, { recursive: true, force: true });
  }
}

function byJobId(a: { jobId: string }, b: { jobId: string }): number {
  return a.jobId.localeCompare(b.jobId);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Polls a condition (a file, a queue state) until it holds, for at most `timeoutMs`. */
async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function volumeFile(storageDir: string, volumeId: string): string {
  return join(storageDir, 'volumes', `${volumeId}.qcow2`);
}

async function diskInfo(path: string): Promise<{ format: string; virtualSize: number; tags: string[] }> {
  const { stdout } = await run('qemu-img', ['info', '-f', 'qcow2', '--output=json', path]);
  const info = JSON.parse(stdout) as { format: string; 'virtual-size': number; snapshots?: { name: string }[] };
  return { format: info.format, virtualSize: info['virtual-size'], tags: (info.snapshots ?? []).map((s) => s.name) };
}

describeWith(['redis', 'qemu-img'], 'agent in-process, on Redis and qemu-img', () => {
  let h: Harness;

  beforeEach(async () => {
    h = new Harness();
    await h.setUp();
  });

  afterEach(async () => {
    await h.tearDown();
  });

  it('heartbeats at start-up and then periodically on the agent events queue', async () => {
    await h.start();
    const first = await h.events.waitFor((m) => m.name === AgentEventKind.HEARTBEAT);
    expect(first).toEqual({
      kind: AgentEventKind.HEARTBEAT,
      hostName: h.hostName,
      driver: 'qemu-img',
      agentVersion: versionString,
      at: anyString,
      runningJobIds: [],
      heldDeliveries: [],
      // The file system of AGENT_STORAGE_DIR (statfs), for placement by capacity.
      storage: { totalBytes: expect.any(Number) as unknown, freeBytes: expect.any(Number) as unknown },
    });
    await h.events.waitFor((m) => m !== h.events.messages[0]);
    expect(h.events.messages.length).toBeGreaterThanOrEqual(2);
  });

  it('creates volumes and snapshots from its host queue and reports STARTED then FINISHED', async () => {
    await h.start();
    const volumeId = randomUUID();
    const createVolumes: JobEnvelope<JobName.CREATE_VOLUMES> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_VOLUMES,
      payload: { volumes: [{ volumeId, sizeGiB: 3 }] },
    };
    await h.dispatch(createVolumes);
    const volumesDone = await h.finished(createVolumes.jobId);

    expect(volumesDone).toEqual({
      kind: ResultKind.FINISHED,
      jobId: createVolumes.jobId,
      attempt: 1,
      hostName: h.hostName,
      name: JobName.CREATE_VOLUMES,
      outcome: { ok: true, data: { created: [volumeId] }, message: 'Created 1 volume(s)' },
      at: anyString,
    });
    const kinds = h.results.messages.filter((m) => m.data.jobId === createVolumes.jobId).map((m) => m.name);
    expect(kinds).toEqual([ResultKind.STARTED, ResultKind.FINISHED]);
    expect(await diskInfo(volumeFile(h.storageDir, volumeId))).toEqual({
      format: 'qcow2',
      virtualSize: 3 * 1024 ** 3,
      tags: [],
    });

    const snapshotId = randomUUID();
    const createSnapshot: JobEnvelope<JobName.CREATE_SNAPSHOT> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_SNAPSHOT,
      payload: { volumeId, snapshotId },
    };
    await h.dispatch(createSnapshot);
    const snapshotDone = await h.finished(createSnapshot.jobId);

    expect(snapshotDone.outcome).toEqual({
      ok: true,
      data: { snapshotId, alreadyExisted: false, sizeBytes: null, quiesced: false },
      message: 'Snapshot taken',
    });
    const started = h.results.messages.find(
      (m) => m.name === ResultKind.STARTED && m.data.jobId === createSnapshot.jobId,
    );
    expect(started?.data).toEqual({
      kind: ResultKind.STARTED,
      jobId: createSnapshot.jobId,
      attempt: 1,
      hostName: h.hostName,
      at: anyString,
    });
    expect((await diskInfo(volumeFile(h.storageDir, volumeId))).tags).toEqual([snapshotId]);
  });

  it('gives the same job delivered twice the effect of one, and reports ok both times', async () => {
    await h.start();
    const volumeId = randomUUID();
    const createVolumes: JobEnvelope = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_VOLUMES,
      payload: { volumes: [{ volumeId, sizeGiB: 1 }] },
    };
    await h.dispatch(createVolumes);
    expect((await h.finished(createVolumes.jobId)).outcome.ok).toBe(true);

    // A redelivery after a lapsed lease: attempt 2 of the same Job row.
    const snapshotId = randomUUID();
    const envelope: JobEnvelope<JobName.CREATE_SNAPSHOT> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_SNAPSHOT,
      payload: { volumeId, snapshotId },
    };
    await h.dispatch(envelope);
    const first = await h.finished(envelope.jobId, 1);
    await h.dispatch({ ...envelope, attempt: 2 });
    const second = await h.finished(envelope.jobId, 2);
    expect(first.outcome).toMatchObject({ ok: true, data: { snapshotId, alreadyExisted: false } });
    expect(second.outcome).toMatchObject({ ok: true, data: { snapshotId, alreadyExisted: true } });
    expect((await diskInfo(volumeFile(h.storageDir, volumeId))).tags).toEqual([snapshotId]);

    // The same delivery queued twice at once, which the worker (concurrency 4) runs side by side.
    const twin: JobEnvelope<JobName.CREATE_SNAPSHOT> = {
      ...envelope,
      jobId: randomUUID(),
      payload: { volumeId, snapshotId: randomUUID() },
    };
    await Promise.all([h.dispatch(twin, `${twin.jobId}.a`), h.dispatch(twin, `${twin.jobId}.b`)]);
    await h.results.waitFor(() => h.finishedOf(twin.jobId).length === 2);
    const outcomes = h.finishedOf(twin.jobId).map((m) => m.outcome);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    const existed = outcomes.map((o) => (o.ok && 'alreadyExisted' in o.data ? o.data.alreadyExisted : undefined));
    expect(existed.sort()).toEqual([false, true]);
    expect((await diskInfo(volumeFile(h.storageDir, volumeId))).tags).toEqual([snapshotId, twin.payload.snapshotId]);
  });

  it('deletes a snapshot and reports alreadyGone on a second delivery', async () => {
    await h.start();
    const volumeId = randomUUID();
    const snapshotId = randomUUID();
    const steps: JobEnvelope[] = [
      {
        jobId: randomUUID(),
        attempt: 1,
        name: JobName.CREATE_VOLUMES,
        payload: { volumes: [{ volumeId, sizeGiB: 1 }] },
      },
      { jobId: randomUUID(), attempt: 1, name: JobName.CREATE_SNAPSHOT, payload: { volumeId, snapshotId } },
    ];
    for (const step of steps) {
      await h.dispatch(step);
      expect((await h.finished(step.jobId)).outcome.ok).toBe(true);
    }
    const remove: JobEnvelope<JobName.DELETE_SNAPSHOT> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.DELETE_SNAPSHOT,
      payload: { volumeId, snapshotId },
    };
    await h.dispatch(remove);
    expect((await h.finished(remove.jobId, 1)).outcome).toMatchObject({ ok: true, data: { alreadyGone: false } });
    expect((await diskInfo(volumeFile(h.storageDir, volumeId))).tags).toEqual([]);
    await h.dispatch({ ...remove, attempt: 2 });
    expect((await h.finished(remove.jobId, 2)).outcome).toMatchObject({ ok: true, data: { alreadyGone: true } });
  });

  it('reports a driver failure as a FINISHED message with ok: false and a readable message', async () => {
    await h.start();
    const envelope: JobEnvelope<JobName.CREATE_SNAPSHOT> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_SNAPSHOT,
      payload: { volumeId: randomUUID(), snapshotId: randomUUID() },
    };
    await h.dispatch(envelope);
    const done = await h.finished(envelope.jobId);
    expect(done.outcome).toEqual({
      ok: false,
      message: `Could not create snapshot ${envelope.payload.snapshotId} of volume ${envelope.payload.volumeId}: the volume does not exist on this host`,
      retryable: false,
    });
  });

  it('consumes only its own host queue', async () => {
    const other = new Queue<JobEnvelope, void, JobName>(hostQueueName(`${h.hostName}-other`), {
      connection: h.redis,
      prefix: h.prefix,
    });
    try {
      const stranger = randomUUID();
      await other.add(
        JobName.CREATE_VOLUMES,
        {
          jobId: stranger,
          attempt: 1,
          name: JobName.CREATE_VOLUMES,
          payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
        },
        { jobId: deliveryId(stranger, 1) },
      );
      await h.start();
      const mine: JobEnvelope<JobName.CREATE_VOLUMES> = {
        jobId: randomUUID(),
        attempt: 1,
        name: JobName.CREATE_VOLUMES,
        payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
      };
      await h.dispatch(mine);
      await h.finished(mine.jobId);
      expect(await other.getJobState(deliveryId(stranger, 1))).toBe('waiting');
      expect(h.results.messages.some((m) => m.data.jobId === stranger)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('lets a running job finish and report before close() resolves, then stops heartbeating', async () => {
    // The simulator's latency gives close() a job in the middle of its work.
    const agent = await h.start({ AGENT_DRIVER: 'simulator', SIMULATOR_LATENCY_MS: '800' });
    const envelope: JobEnvelope<JobName.CREATE_VOLUMES> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_VOLUMES,
      payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
    };
    const queueJobId = await h.dispatch(envelope);
    await h.results.waitFor((m) => m.name === ResultKind.STARTED && m.data.jobId === envelope.jobId);

    await agent.close();

    expect(await h.hostQueue.getJobState(queueJobId)).toBe('completed');
    expect((await h.finished(envelope.jobId)).outcome.ok).toBe(true);
    const beats = h.events.messages.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(h.events.messages.length).toBe(beats);
    await agent.close(); // closing twice is harmless
  });

  it('refuses to start with the libvirt driver when libvirt does not answer at AGENT_LIBVIRT_URI', async () => {
    const uri = 'qemu:///system?socket=/nonexistent/libvirt-sock';
    await expect(
      startAgent(h.config({ AGENT_DRIVER: 'libvirt', AGENT_LIBVIRT_URI: uri }), { logger: false }),
    ).rejects.toThrow(`The libvirt driver cannot reach libvirt at ${uri} (AGENT_LIBVIRT_URI)`);
  });

  it('refuses to start when Redis cannot be reached, leaving nothing open', async () => {
    const config = h.config({ REDIS_URL: 'redis://127.0.0.1:1' });
    await expect(startAgent(config, { logger: false, redisTimeoutMs: 1500 })).rejects.toThrow(
      'Redis is not reachable (waited 1.5 s): connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  describe('fenced by attempt', () => {
    const createVolume = (attempt: number): JobEnvelope<JobName.CREATE_VOLUMES> => ({
      jobId: randomUUID(),
      attempt,
      name: JobName.CREATE_VOLUMES,
      payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
    });

    it('does not run a delivery whose attempt is no longer current (re-sent or closed), and reports nothing', async () => {
      await h.start();
      const resent = createVolume(1);
      const closed = createVolume(2);
      const current = createVolume(3);
      // What the api wrote before its latest sends: attempt 2 of the first job, the second job closed.
      await h.redis.set(fenceKey(h.prefix, resent.jobId), '2');
      await h.redis.set(fenceKey(h.prefix, closed.jobId), FENCE_CLOSED);
      await h.redis.set(fenceKey(h.prefix, current.jobId), '3');
      for (const envelope of [resent, closed, current]) await h.dispatch(envelope);
      await h.finished(current.jobId, 3);
      for (const stale of [resent, closed]) {
        // Taken from the queue and dropped: the disk untouched, no STARTED, no FINISHED.
        expect(await h.hostQueue.getJobState(deliveryId(stale.jobId, stale.attempt))).toBe('completed');
        const volumeId = stale.payload.volumes[0].volumeId;
        await expect(access(volumeFile(h.storageDir, volumeId))).rejects.toThrow();
        expect(h.results.messages.filter((m) => m.data.jobId === stale.jobId)).toEqual([]);
      }
      await expect(access(volumeFile(h.storageDir, current.payload.volumes[0].volumeId))).resolves.toBeUndefined();
    });
  });

  it('keeps a FINISHED result in its outbox until acknowledged, publishing it again after Redis lost it', async () => {
    const agent = await h.start({ AGENT_RESULT_RESEND_SECONDS: '1' });
    const envelope: JobEnvelope<JobName.CREATE_VOLUMES> = {
      jobId: randomUUID(),
      attempt: 1,
      name: JobName.CREATE_VOLUMES,
      payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
    };
    // The api is away: the result waits in the results queue, and then Redis loses everything of ours.
    await h.results.close();
    await h.dispatch(envelope);
    const id = `${envelope.jobId}.1.${ResultKind.FINISHED}`;
    const kept = join(h.storageDir, 'outbox', `${id}.json`);
    await waitUntil(() => exists(kept));
    await waitUntil(async () => (await h.hostQueue.getJobState(deliveryId(envelope.jobId, 1))) === 'completed');
    const keys = await h.redis.keys(`${h.prefix}:*`);
    await h.redis.del(...keys);

    // The api is back: the outbox publishes the result again, and again, until it is acknowledged.
    h.results = new Collector(RESULTS_QUEUE, h.prefix, h.redis);
    expect((await h.finished(envelope.jobId)).outcome.ok).toBe(true);
    expect(await exists(kept)).toBe(true);
    await h.redis.sadd(resultAcksKey(h.prefix, h.hostName), id);
    await waitUntil(async () => !(await exists(kept)));
    await waitUntil(async () => (await h.redis.sismember(resultAcksKey(h.prefix, h.hostName), id)) === 0);

    // An agent restarted with an unacknowledged result publishes it at start-up.
    const second = { ...envelope, jobId: randomUUID() };
    await h.dispatch(second);
    await h.finished(second.jobId);
    await agent.close();
    const before = h.finishedOf(second.jobId).length;
    await h.start({ AGENT_RESULT_RESEND_SECONDS: '60' });
    await waitUntil(() => h.finishedOf(second.jobId).length > before);
  });

  it('names in its heartbeat the deliveries waiting and delayed in its host queue, with their attempts', async () => {
    await h.hostQueue.pause();
    const waiting = [randomUUID(), randomUUID()];
    for (const jobId of waiting) {
      await h.dispatch({
        jobId,
        attempt: 2,
        name: JobName.CREATE_VOLUMES,
        payload: { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] },
      });
    }
    const delayed = randomUUID();
    await h.hostQueue.add(
      JobName.CREATE_VOLUMES,
      { jobId: delayed, attempt: 1, name: JobName.CREATE_VOLUMES, payload: { volumes: [] } },
      { jobId: deliveryId(delayed, 1), delay: 60_000 },
    );
    await h.start();
    const expected = [...waiting.map((jobId) => ({ jobId, attempt: 2 })), { jobId: delayed, attempt: 1 }];
    const held = (event: AgentEvent) => (event.kind === AgentEventKind.HEARTBEAT ? (event.heldDeliveries ?? []) : []);
    const beat = await h.events.waitFor((m) => held(m.data).length === 3);
    expect([...held(beat)].sort(byJobId)).toEqual(expected.sort(byJobId));
  });

  it('creates the volumes folder of primary storage at start-up', async () => {
    await h.start();
    await expect(access(join(h.storageDir, 'volumes'))).resolves.toBeUndefined();
  });

  it('at start-up, before taking a job, repairs a journaled image with leaks and reports repaired and damaged images', async () => {
    const leaky = randomUUID();
    const corrupt = randomUUID();
    await mkdir(join(h.storageDir, 'volumes'), { recursive: true });
    const journal = join(h.storageDir, '.snapdeck', 'dirty');
    await mkdir(journal, { recursive: true });
    for (const id of [leaky, corrupt]) {
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', volumeFile(h.storageDir, id), '1G']);
      // What an agent killed mid `qemu-img snapshot -c` leaves: the journal entry, and the damage.
      await writeFile(join(journal, id), '{"operation":"snapshot -c"}');
    }
    await leakClusters(volumeFile(h.storageDir, leaky), 5);
    await misplaceL2Table(volumeFile(h.storageDir, corrupt));

    await h.start();

    const repaired = await h.events.waitFor(
      (m) => m.data.kind === AgentEventKind.IMAGE_CHECKED && m.data.volumeId === leaky,
    );
    expect(repaired).toEqual({
      kind: AgentEventKind.IMAGE_CHECKED,
      hostName: h.hostName,
      at: anyString,
      volumeId: leaky,
      status: 'repaired',
      leakedClusters: 5,
      message: '5 leaked cluster(s) repaired with qemu-img check -r leaks',
    });
    const damaged = await h.events.waitFor(
      (m) => m.data.kind === AgentEventKind.IMAGE_CHECKED && m.data.volumeId === corrupt,
    );
    expect(damaged).toMatchObject({ status: 'damaged', message: expect.stringContaining('corruption') as unknown });
    // Announced first: the api knows the host when the image events arrive.
    expect(h.events.messages[0].name).toBe(AgentEventKind.HEARTBEAT);
    await expect(run('qemu-img', ['check', '-f', 'qcow2', volumeFile(h.storageDir, leaky)])).resolves.toBeDefined();
    expect(await readdir(journal)).toEqual([]);
  });
});
