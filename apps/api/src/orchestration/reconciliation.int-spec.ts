import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import {
  AgentEventKind,
  deliveryId,
  JobName,
  ResultKind,
  resultId,
  type JobFinishedMessage,
  type JobOutcome,
} from '@snapdeck/contracts';
import {
  ErrorCode,
  HostState,
  InstanceState,
  JobStatus,
  Role,
  SnapshotState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type Database, type HostEntity, type JobEntity } from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import type { ApiConfig } from '../config.js';
import { SnapshotsService } from '../snapshots/snapshots.service.js';
import { AgentMessages } from './agent-messages.service.js';
import { JobLauncher } from './job-launcher.service.js';
import { JobResultsService } from './job-results.service.js';
import { Reconciler } from './reconciler.service.js';
import { RecordingDispatcher } from './recording-dispatcher.test-support.js';

/**
 * The orchestration on a real PostgreSQL, with the queue replaced by a recorder: what is sent, what the
 * reconciler does with lapsed leases, and how results close jobs, also when several callers race.
 */

const LEASE_SECONDS = 60;
const MAX_ATTEMPTS = 3;

interface Orchestration {
  dispatcher: RecordingDispatcher;
  launcher: JobLauncher;
  results: JobResultsService;
  reconciler: Reconciler;
  snapshots: SnapshotsService;
}

function orchestration(db: Database, config: ApiConfig, dispatcher = new RecordingDispatcher()): Orchestration {
  const launcher = new JobLauncher(db, dispatcher, config);
  const results = new JobResultsService(db, config, launcher);
  return {
    dispatcher,
    launcher,
    results,
    reconciler: new Reconciler(db, launcher, results, config),
    snapshots: new SnapshotsService(db, launcher),
  };
}

/** A time after the lease of everything dispatched so far has run out (`n` leases from now). */
function afterLeases(n = 1): Date {
  return new Date(Date.now() + n * (LEASE_SECONDS + 1) * 1000);
}

function finished<N extends JobName>(
  job: JobEntity,
  outcome: JobOutcome<N>,
  attempt = job.attempt,
): JobFinishedMessage<N> {
  return {
    kind: ResultKind.FINISHED,
    jobId: job.id,
    attempt,
    hostName: 'kvm-1',
    name: job.type as N,
    outcome,
    at: new Date().toISOString(),
  };
}

function snapshotTaken(snapshotId: string): JobOutcome<JobName.CREATE_SNAPSHOT> {
  return { ok: true, data: { snapshotId, alreadyExisted: false, sizeBytes: null } };
}

describe('orchestration on a real database', () => {
  let db: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let principal: Principal;
  let environmentId: string;
  let hostCount = 0;

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    ({ db, close } = await openTestDatabase());
    config = loadApiConfig({
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      // Hosts go DOWN only when a test says so (far-future reconcile times must not take them down).
      HOST_DOWN_AFTER_SECONDS: '86400',
    });
    const organization = await db.repos.organizations.create('orchestration');
    environmentId = (await db.repos.environments.create(organization.id, 'production')).id;
    const user = await db.repos.users.create(organization.id, 'member@example.test', Role.MEMBER);
    principal = { userId: user.id, email: user.email, organizationId: organization.id, role: Role.MEMBER };
  });
  afterAll(() => close?.());

  async function host(): Promise<HostEntity> {
    return db.repos.hosts.recordHeartbeat({
      hostName: `kvm-${++hostCount}`,
      driver: 'qemu-img',
      agentVersion: '0.1.0',
      at: new Date(),
    });
  }

  async function readyVolume(on: HostEntity): Promise<string> {
    const instance = await db.repos.instances.create({
      organizationId: principal.organizationId,
      environmentId,
      hostId: on.id,
      name: `vm-${hostCount}-${Math.random().toString(16).slice(2, 8)}`,
      state: InstanceState.STOPPED,
    });
    const [volume] = await db.repos.volumes.createMany([
      {
        organizationId: principal.organizationId,
        environmentId,
        instanceId: instance.id,
        hostId: on.id,
        name: 'ROOT',
        type: VolumeType.ROOT,
        state: VolumeState.READY,
        sizeGiB: 1,
      },
    ]);
    return volume.id;
  }

  const job = async (id: string) => (await db.repos.jobs.findForOrchestration(id))!;
  const snapshot = async (id: string) => db.repos.snapshots.findById(ALL_ORGANIZATIONS, id);
  const volumeState = async (id: string) => (await db.repos.volumes.findById(ALL_ORGANIZATIONS, id))!.state;
  const events = async (resourceId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId }, { first: 100 })).items.map((e) => e.type);
  /** The REPAIR_STORAGE jobs opened for a resource (a late create's cleanup), oldest first. */
  const repairsOf = async (resourceId: string): Promise<JobEntity[]> =>
    db.dataSource.query(
      `SELECT id, host_id AS "hostId", status, payload FROM jobs WHERE type = $1 AND resource_id = $2 ORDER BY id`,
      [JobName.REPAIR_STORAGE, resourceId],
    );

  it('sends a new snapshot once, as attempt 1, and leaves it alone while its lease runs', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1)]);
    expect(o.dispatcher.sent[0]).toMatchObject({
      hostName: h.name,
      envelope: { name: JobName.CREATE_SNAPSHOT, payload: { volumeId, snapshotId: op.snapshot.id } },
    });
    expect(await o.reconciler.reconcileOnce(new Date())).toEqual({ hostsMarkedDown: 0, redispatched: 0, failed: 0 });
    expect((await job(op.job.id)).attempt).toBe(1);
  });

  it('re-sends a lapsed job as a new delivery until its attempts run out, then fails it: snapshot ERROR, volume READY', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });

    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      await o.reconciler.reconcileOnce(afterLeases(attempt - 1));
      expect((await job(op.job.id)).attempt).toBe(attempt);
      expect((await job(op.job.id)).status).toBe(JobStatus.PENDING);
    }
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([1, 2, 3].map((a) => deliveryId(op.job.id, a)));
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.IN_PROGRESS);

    await o.reconciler.reconcileOnce(afterLeases(MAX_ATTEMPTS));
    const closed = await job(op.job.id);
    const reason = `No result from host ${h.name} after ${MAX_ATTEMPTS} attempt(s)`;
    expect(closed).toMatchObject({
      status: JobStatus.FAILED,
      error: reason,
      attempt: MAX_ATTEMPTS,
      leaseExpiresAt: null,
    });
    expect(await snapshot(op.snapshot.id)).toMatchObject({ state: SnapshotState.ERROR, error: reason });
    expect(await volumeState(volumeId)).toBe(VolumeState.READY);
    expect(await events(op.snapshot.id)).toEqual(['snapshot.failed']);
    expect(o.dispatcher.deliveries(op.job.id)).toHaveLength(MAX_ATTEMPTS);
    // Its deliveries still queued are taken back, so a late agent does not carry out a failed job.
    expect(o.dispatcher.withdrawn.filter((w) => w.jobId === op.job.id)).toEqual([
      { hostName: h.name, jobId: op.job.id, attempts: MAX_ATTEMPTS },
    ]);

    // Its fence is closed: a delivery an agent still holds is not run.
    expect(o.dispatcher.fences.get(op.job.id)).toBe('closed');

    // The result of a delivery that was still out arrives late: the closed job changes nothing, and says so.
    expect(await o.results.finished(finished(closed, snapshotTaken(op.snapshot.id), 2))).toBe(false);
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.ERROR);
    expect(await events(op.snapshot.id)).toEqual(['job.late_result', 'snapshot.failed']);
    // The tag it says it wrote has no owner (an ERROR row owns none): REPAIR_STORAGE removes it at once.
    const [cleanup, ...more] = await repairsOf(op.snapshot.id);
    expect(more).toEqual([]);
    expect(cleanup).toMatchObject({
      hostId: h.id,
      payload: { tags: [{ volumeId, tag: op.snapshot.id }], volumeIds: [], templateIds: [], transferPaths: [] },
    });
    expect(o.dispatcher.deliveries(cleanup.id)).toEqual([deliveryId(cleanup.id, 1)]);
  });

  it('a repair on a host that went DOWN waits for it (an audit interval at most) instead of failing', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });
    // The create fails (attempts used up), then its late result opens the cleanup of the tag it wrote.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) await o.reconciler.reconcileOnce(afterLeases(attempt));
    const closed = await job(op.job.id);
    expect(closed.status).toBe(JobStatus.FAILED);
    await o.results.finished(finished(closed, snapshotTaken(op.snapshot.id), MAX_ATTEMPTS));
    const cleanup = await job((await repairsOf(op.snapshot.id))[0].id);
    expect(cleanup.attempt).toBe(1);

    // Its host goes DOWN before the agent reports: the repair stays open, looked at again later.
    await db.repos.hosts.markStaleHostsDown(new Date(Date.now() + 1000));
    const lapsed = afterLeases();
    expect((await o.reconciler.reconcileOnce(lapsed)).failed).toBe(0);
    const waiting = await job(cleanup.id);
    expect(waiting).toMatchObject({ status: JobStatus.PENDING, attempt: 1 });
    expect(waiting.leaseExpiresAt!.getTime()).toBe(lapsed.getTime() + config.HOST_DOWN_AFTER_SECONDS * 1000);
    expect(o.dispatcher.withdrawn.filter((w) => w.jobId === cleanup.id)).toEqual([]);

    // Back UP: once the postponed lease lapses it is delivered again, a new attempt.
    const back = new Date(waiting.leaseExpiresAt!.getTime() + 1000);
    await db.repos.hosts.recordHeartbeat({ hostName: h.name, driver: 'qemu-img', agentVersion: '0.1.0', at: back });
    await o.reconciler.reconcileOnce(back);
    expect(o.dispatcher.deliveries(cleanup.id)).toEqual([deliveryId(cleanup.id, 1), deliveryId(cleanup.id, 2)]);

    // DOWN for longer than an audit interval: it fails, and the periodic audit finds the orphan again.
    await db.repos.hosts.markStaleHostsDown(new Date(back.getTime() + 1000));
    const later = new Date(cleanup.createdAt.getTime() + config.STORAGE_AUDIT_INTERVAL_MINUTES * 60_000 + 60_000);
    await o.reconciler.reconcileOnce(
      new Date(Math.max(later.getTime(), (await job(cleanup.id)).leaseExpiresAt!.getTime() + 1000)),
    );
    expect(await job(cleanup.id)).toMatchObject({ status: JobStatus.FAILED });
    expect((await job(cleanup.id)).error).toMatch(/is down/);
  });

  it('fails the lapsed jobs of a host that went DOWN without sending them again', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });
    const down = await db.repos.hosts.markStaleHostsDown(new Date(Date.now() + 1000));
    expect(down.map((d) => d.id)).toContain(h.id);

    const report = await o.reconciler.reconcileOnce(afterLeases());
    expect(report.failed).toBeGreaterThanOrEqual(1);
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1)]);
    const failed = await job(op.job.id);
    expect(failed.status).toBe(JobStatus.FAILED);
    expect(failed.error).toMatch(new RegExp(`^Host ${h.name} is down: no heartbeat since `));
    expect(o.dispatcher.withdrawn.filter((w) => w.jobId === op.job.id)).toEqual([
      { hostName: h.name, jobId: op.job.id, attempts: 1 },
    ]);
    expect(await snapshot(op.snapshot.id)).toMatchObject({ state: SnapshotState.ERROR, error: failed.error });
    expect(await volumeState(volumeId)).toBe(VolumeState.READY);

    // New work for the DOWN host is refused before anything is written.
    const otherVolume = await readyVolume(h);
    await expect(o.snapshots.create(principal, { volumeId: otherVolume })).rejects.toMatchObject({
      code: ErrorCode.PRECONDITION_FAILED,
    });
    expect(await volumeState(otherVolume)).toBe(VolumeState.READY);
    expect(await db.repos.snapshots.list(ALL_ORGANIZATIONS, { volumeId: otherVolume }, {})).toMatchObject({
      items: [],
    });
    await db.repos.hosts.recordHeartbeat({
      hostName: h.name,
      driver: 'qemu-img',
      agentVersion: '0.1.0',
      at: new Date(),
    });
    expect((await db.repos.hosts.findById(h.id))!.state).toBe(HostState.UP);
  });

  it('sends a job whose dispatch never happened (crash between commit and send), and one whose send failed', async () => {
    const o = orchestration(db, config);
    const h = await host();
    // Committed but never launched: attempt 0, no lease.
    const orphanVolume = await readyVolume(h);
    const orphan = await db.repos.jobs.create({
      organizationId: principal.organizationId,
      type: JobName.CREATE_SNAPSHOT,
      hostId: h.id,
      resourceType: 'Snapshot',
      resourceId: orphanVolume,
      payload: { volumeId: orphanVolume, snapshotId: orphanVolume },
      createdByUserId: principal.userId,
    });
    // Launched while Redis was unreachable: attempt 1 is claimed, never sent.
    o.dispatcher.failNext = 1;
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([]);
    expect(await job(op.job.id)).toMatchObject({ attempt: 1, sentAt: null });

    // The first pass (at start-up) sends both: the never-claimed one as attempt 1, the unsent claim as itself.
    await o.reconciler.reconcileOnce(new Date(Date.now() + 1000));
    expect(o.dispatcher.deliveries(orphan.id)).toEqual([deliveryId(orphan.id, 1)]);
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1)]);
    expect((await job(op.job.id)).sentAt).not.toBeNull();

    await o.reconciler.reconcileOnce(afterLeases());
    expect(o.dispatcher.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1), deliveryId(op.job.id, 2)]);
  });

  it('re-sends a claim whose send never happened once the short send claim lapses, not the lease, at no attempt', async () => {
    const shared = new RecordingDispatcher();
    const a = orchestration(db, config, shared);
    const b = orchestration(db, config, shared);
    await Promise.all([a.reconciler.reconcileOnce(), b.reconciler.reconcileOnce()]); // their start-up passes
    const h = await host();
    // An api that claimed the job and died before sending it, as often as there are attempts and more.
    shared.failNext = MAX_ATTEMPTS + 1;
    const op = await a.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const claimed = await job(op.job.id);
    expect(claimed).toMatchObject({ attempt: 1, sentAt: null, status: JobStatus.PENDING });
    const claimEnds = claimed.leaseExpiresAt!.getTime();
    expect(claimEnds).toBeLessThanOrEqual(Date.now() + config.JOB_SEND_CLAIM_SECONDS * 1000);

    // While the claim holds, nobody sends it (the claimer may still be sending).
    await a.reconciler.reconcileOnce(new Date(claimEnds - 1000));
    expect(shared.deliveries(op.job.id)).toEqual([]);

    // Each lapsed claim is claimed again by one replica; failed sends cost no attempt.
    for (let pass = 1; pass <= MAX_ATTEMPTS; pass++) {
      const now = new Date(Date.now() + pass * (config.JOB_SEND_CLAIM_SECONDS + 1) * 1000);
      await Promise.all([a.reconciler.reconcileOnce(now), b.reconciler.reconcileOnce(now)]);
      expect(await job(op.job.id)).toMatchObject({ attempt: 1, status: JobStatus.PENDING, sentAt: null });
    }
    const now = new Date(Date.now() + (MAX_ATTEMPTS + 1) * (config.JOB_SEND_CLAIM_SECONDS + 1) * 1000);
    await Promise.all([a.reconciler.reconcileOnce(now), b.reconciler.reconcileOnce(now)]);
    expect(shared.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1)]);
    const sent = await job(op.job.id);
    expect(sent).toMatchObject({ attempt: 1, status: JobStatus.PENDING });
    expect(sent.sentAt).not.toBeNull();
    // The real lease starts with the send.
    expect(sent.leaseExpiresAt!.getTime()).toBeGreaterThanOrEqual(now.getTime() + (LEASE_SECONDS - 1) * 1000);
    expect(shared.fences.get(op.job.id)).toBe(1);
  });

  it('applies only the current attempt: a late FINISHED of a re-sent attempt is recorded, never applied', async () => {
    const o = orchestration(db, config);
    await o.reconciler.reconcileOnce();
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });
    expect(o.dispatcher.fences.get(op.job.id)).toBe(1);
    await o.reconciler.reconcileOnce(afterLeases());
    const resent = await job(op.job.id);
    expect(resent.attempt).toBe(2);
    // Fenced before it was sent: the frozen agent's attempt 1 is stale from here on.
    expect(o.dispatcher.fences.get(op.job.id)).toBe(2);

    // Attempt 1, frozen past its lease, reports at last: not applied, the job stays open for attempt 2.
    expect(await o.results.finished(finished(resent, snapshotTaken(op.snapshot.id), 1))).toBe(false);
    expect(await job(op.job.id)).toMatchObject({ status: JobStatus.PENDING, attempt: 2 });
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.IN_PROGRESS);
    expect(await events(op.snapshot.id)).toEqual(['job.late_result']);
    // Its tag is the one attempt 2 will find: nothing is removed while the row may still own it.
    expect(await repairsOf(op.snapshot.id)).toEqual([]);
    const [late] = (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId: op.snapshot.id }, { first: 1 })).items;
    expect(late.details).toMatchObject({ jobId: op.job.id, attempt: 1, currentAttempt: 2, ok: true });

    // Attempt 2 closes it and closes its fence; the same result again is a quiet repeat.
    const failedOutcome: JobOutcome = { ok: false, message: 'qemu-img: No space left on device' };
    expect(await o.results.finished(finished(resent, failedOutcome, 2))).toBe(true);
    expect(o.dispatcher.fences.get(op.job.id)).toBe('closed');
    expect(await o.results.finished(finished(resent, failedOutcome, 2))).toBe(false);
    expect(await events(op.snapshot.id)).toEqual(['snapshot.failed', 'job.late_result']);
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.ERROR);
    expect(await repairsOf(op.snapshot.id)).toEqual([]);
    // A late success of a failed job is recorded, never applied, and the tag it wrote is removed.
    expect(await o.results.finished(finished(resent, snapshotTaken(op.snapshot.id), 2))).toBe(false);
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.ERROR);
    expect(await events(op.snapshot.id)).toEqual(['job.late_result', 'snapshot.failed', 'job.late_result']);
    expect(await repairsOf(op.snapshot.id)).toHaveLength(1);
  });

  it('renews the leases of every delivery a heartbeat says the agent holds, queued or running, of its current attempt', async () => {
    const o = orchestration(db, config);
    await o.reconciler.reconcileOnce();
    const messages = new AgentMessages(config, db, o.results, o.dispatcher);
    const h = await host();
    const queued = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const running = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const oldAgent = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const stale = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    for (const op of [running, oldAgent]) {
      await o.results.started({
        kind: ResultKind.STARTED,
        jobId: op.job.id,
        attempt: 1,
        hostName: h.name,
        at: new Date().toISOString(),
      });
    }
    // The leases are about to run out: the agent has been busy for a long time.
    const ids = [queued, running, oldAgent, stale].map((op) => op.job.id);
    await db.dataSource.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ANY($1)`, [
      ids,
    ]);
    const beat = (extra: object) => ({
      kind: AgentEventKind.HEARTBEAT as const,
      hostName: h.name,
      driver: 'qemu-img',
      agentVersion: '0.1.0',
      at: new Date().toISOString(),
      ...extra,
    });
    await messages.agentEvent(
      beat({
        runningJobIds: [running.job.id],
        heldDeliveries: [
          { jobId: queued.job.id, attempt: 1 },
          { jobId: running.job.id, attempt: 1 },
          // A stale copy waiting in the queue keeps nothing alive.
          { jobId: stale.job.id, attempt: 7 },
        ],
      }),
    );
    // An older agent names only what it runs.
    await messages.agentEvent(beat({ agentVersion: '0.1.0', runningJobIds: [oldAgent.job.id] }));

    const report = await o.reconciler.reconcileOnce(new Date());
    expect(report.redispatched).toBe(1);
    expect(o.dispatcher.deliveries(queued.job.id)).toEqual([deliveryId(queued.job.id, 1)]);
    expect(o.dispatcher.deliveries(running.job.id)).toEqual([deliveryId(running.job.id, 1)]);
    expect(o.dispatcher.deliveries(oldAgent.job.id)).toEqual([deliveryId(oldAgent.job.id, 1)]);
    expect(o.dispatcher.deliveries(stale.job.id)).toEqual([1, 2].map((a) => deliveryId(stale.job.id, a)));
    expect(await job(queued.job.id)).toMatchObject({ status: JobStatus.PENDING, attempt: 1 });
    expect(await job(running.job.id)).toMatchObject({ status: JobStatus.RUNNING, attempt: 1 });
  });

  it('acknowledges every FINISHED it is handed (applied, repeated or late), so the agent outbox can drop it', async () => {
    const o = orchestration(db, config);
    const messages = new AgentMessages(config, db, o.results, o.dispatcher);
    const h = await host();
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const message = finished(await job(op.job.id), snapshotTaken(op.snapshot.id));
    await messages.result(message);
    await messages.result(message);
    await messages.result({ ...message, attempt: 9 });
    expect(o.dispatcher.acknowledged.filter((a) => a.resultId.startsWith(op.job.id))).toEqual([
      { hostName: 'kvm-1', resultId: resultId(message) },
      { hostName: 'kvm-1', resultId: resultId(message) },
      { hostName: 'kvm-1', resultId: resultId({ ...message, attempt: 9 }) },
    ]);
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.COMPLETED);
  });

  it('after Redis lost its data: re-sends every PENDING job under a new attempt at once, re-fences RUNNING ones', async () => {
    const o = orchestration(db, config);
    await o.reconciler.reconcileOnce();
    const h = await host();
    const pending = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    const running = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    await o.results.started({
      kind: ResultKind.STARTED,
      jobId: running.job.id,
      attempt: 1,
      hostName: h.name,
      at: new Date().toISOString(),
    });
    o.dispatcher.fences.clear(); // FLUSHALL
    o.dispatcher.lost = true;

    // Well within every lease: only the loss makes the pass act.
    await o.reconciler.reconcileOnce(new Date());
    expect(o.dispatcher.deliveries(pending.job.id)).toEqual([1, 2].map((a) => deliveryId(pending.job.id, a)));
    expect(o.dispatcher.fences.get(pending.job.id)).toBe(2);
    // The agent holds the RUNNING one: its result comes from its outbox, under the attempt it runs.
    expect(o.dispatcher.deliveries(running.job.id)).toEqual([deliveryId(running.job.id, 1)]);
    expect(o.dispatcher.fences.get(running.job.id)).toBe(1);
    expect(await job(running.job.id)).toMatchObject({ status: JobStatus.RUNNING, attempt: 1 });

    // Once only: the next pass leaves them alone.
    await o.reconciler.reconcileOnce(new Date());
    expect(o.dispatcher.deliveries(pending.job.id)).toHaveLength(2);
  });

  it('lets two api replicas reconcile at once: every lapsed job is sent again exactly once', async () => {
    const shared = new RecordingDispatcher();
    const a = orchestration(db, config, shared);
    const b = orchestration(db, config, shared);
    const h = await host();
    const ops = [];
    for (let i = 0; i < 8; i++) ops.push(await a.snapshots.create(principal, { volumeId: await readyVolume(h) }));
    const now = afterLeases();
    const [ra, rb] = await Promise.all([a.reconciler.reconcileOnce(now), b.reconciler.reconcileOnce(now)]);
    for (const op of ops) {
      expect(shared.deliveries(op.job.id)).toEqual([deliveryId(op.job.id, 1), deliveryId(op.job.id, 2)]);
      expect((await job(op.job.id)).attempt).toBe(2);
    }
    // Jobs left over from earlier tests may be lapsed too; ours were each counted by exactly one replica.
    expect(ra.redispatched + rb.redispatched).toBeGreaterThanOrEqual(ops.length);
  });

  it('closes a job once when the same result arrives ten times at once', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const volumeId = await readyVolume(h);
    const op = await o.snapshots.create(principal, { volumeId });
    const sent = await job(op.job.id);
    const message = finished(sent, snapshotTaken(op.snapshot.id));
    const applied = await Promise.all(Array.from({ length: 10 }, () => o.results.finished(message)));
    expect(applied.filter(Boolean)).toHaveLength(1);
    expect(await snapshot(op.snapshot.id)).toMatchObject({ state: SnapshotState.COMPLETED, error: null });
    expect(await volumeState(volumeId)).toBe(VolumeState.READY);
    expect(await job(op.job.id)).toMatchObject({ status: JobStatus.SUCCEEDED, error: null });
    expect(await events(op.snapshot.id)).toEqual(['snapshot.completed']);

    // A reconciler failing it at the same moment, or afterwards, finds it closed.
    expect(await o.results.fail(op.job.id, 'host down')).toBe(false);
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.COMPLETED);
  });

  it('ignores a STARTED report of an earlier attempt (it must not extend the lease of the current one)', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    await o.reconciler.reconcileOnce(afterLeases());
    const resent = await job(op.job.id);
    expect(resent.attempt).toBe(2);
    await o.results.started({
      kind: ResultKind.STARTED,
      jobId: op.job.id,
      attempt: 1,
      hostName: h.name,
      at: new Date().toISOString(),
    });
    expect(await job(op.job.id)).toEqual(resent);
    await o.results.started({
      kind: ResultKind.STARTED,
      jobId: op.job.id,
      attempt: 2,
      hostName: h.name,
      at: new Date().toISOString(),
    });
    expect((await job(op.job.id)).status).toBe(JobStatus.RUNNING);
  });

  it('returns a COMPLETED snapshot to COMPLETED, with the failure recorded, when the disk refuses its delete', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    await o.results.finished(finished(await job(op.job.id), snapshotTaken(op.snapshot.id)));
    const del = await o.snapshots.delete(principal, op.snapshot.id);
    expect(del.snapshot.state).toBe(SnapshotState.DESTROYING);
    expect(await o.results.finished(finished(await job(del.job.id), { ok: false, message: 'image is locked' }))).toBe(
      true,
    );
    expect(await snapshot(op.snapshot.id)).toMatchObject({
      state: SnapshotState.COMPLETED,
      error: 'Delete failed: image is locked',
    });
  });

  it('returns an ERROR snapshot to ERROR, never COMPLETED, when its delete fails', async () => {
    // COMPLETED means "on disk": a snapshot that never got there must not read "Completed" after a failed delete.
    const o = orchestration(db, config);
    const h = await host();
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    await o.results.fail(op.job.id, 'qemu-img: No space left on device');
    expect((await snapshot(op.snapshot.id))!.state).toBe(SnapshotState.ERROR);
    const del = await o.snapshots.delete(principal, op.snapshot.id);
    expect(del.snapshot.state).toBe(SnapshotState.DESTROYING);
    expect(
      await o.results.finished(
        finished(await job(del.job.id), { ok: false, message: 'the volume does not exist on this host' }),
      ),
    ).toBe(true);
    const after = (await snapshot(op.snapshot.id))!;
    expect(after.completedAt).toBeNull();
    expect(after.state).toBe(SnapshotState.ERROR);
  });

  it('removes an ERROR snapshot once the disk confirms the delete', async () => {
    const o = orchestration(db, config);
    const h = await host();
    const op = await o.snapshots.create(principal, { volumeId: await readyVolume(h) });
    await o.results.fail(op.job.id, 'simulated');
    const del = await o.snapshots.delete(principal, op.snapshot.id);
    const ok: JobOutcome<JobName.DELETE_SNAPSHOT> = {
      ok: true,
      data: { snapshotId: op.snapshot.id, alreadyGone: true },
    };
    expect(await o.results.finished(finished(await job(del.job.id), ok))).toBe(true);
    expect(await snapshot(op.snapshot.id)).toBeNull();
    expect(await events(op.snapshot.id)).toEqual(['snapshot.deleted', 'snapshot.failed']);
  });
});
