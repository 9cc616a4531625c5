import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import { JobName, ResultKind, type JobOutcome } from '@snapdeck/contracts';
import { PolicyRunState, PolicyRunStatus, Role, SnapshotState, VolumeState, VolumeType } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  createDataSource,
  Database,
  type HostEntity,
  type SnapshotPolicyEntity,
} from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import type { ApiConfig } from '../config.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { JobResultsService } from '../orchestration/job-results.service.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import { SnapshotsService } from '../snapshots/snapshots.service.js';
import type { Clock } from './clock.js';
import { PolicyRetentionPass } from './policy-retention-pass.js';
import { PolicyRunner } from './policy-runner.js';
import { PolicyWakeups } from './policy-wakeups.js';
import { SnapshotPoliciesService } from './snapshot-policies.service.js';

/**
 * The policy scheduler on a real PostgreSQL, time driven by a clock the test sets: schedulers of two "replicas"
 * (two connection pools on one database) claim the same due rows; agents are played by feeding each sent job's
 * result back through JobResultsService, as the agent's report would arrive.
 */

const T0 = new Date('2030-01-07T10:00:00.000Z');
const at = (seconds: number, ms = 0) => new Date(T0.getTime() + seconds * 1000 + ms);

class TestClock implements Clock {
  t = T0;
  now(): Date {
    return this.t;
  }
}

interface Replica {
  db: Database;
  dispatcher: RecordingDispatcher;
  results: JobResultsService;
  runner: PolicyRunner;
  retention: PolicyRetentionPass;
}

describe('snapshot policy scheduler on a real database', () => {
  let db: Database;
  let second: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let organizationId: string;
  let environmentId: string;
  let member: Principal;
  let host: HostEntity;
  const clock = new TestClock();
  let a: Replica;
  let b: Replica;
  let policies: SnapshotPoliciesService;
  const finished = new Set<string>();

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    let url: string;
    ({ db, url, close } = await openTestDatabase());
    const dataSource = createDataSource({ url, poolSize: 5 });
    await dataSource.initialize();
    second = new Database(dataSource);
    config = loadApiConfig({
      POLICY_MIN_INTERVAL_SECONDS: '1',
      POLICY_MAX_RETRIES: '2',
      POLICY_RETRY_BASE_SECONDS: '2',
      HOST_DOWN_AFTER_SECONDS: '86400',
    });
    organizationId = (await db.repos.organizations.create('scheduled')).id;
    environmentId = (await db.repos.environments.create(organizationId, 'production')).id;
    const user = await db.repos.users.create(organizationId, 'member@example.test', Role.MEMBER);
    member = { userId: user.id, email: user.email, organizationId, role: Role.MEMBER };
    host = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-policies',
      driver: 'qemu-img',
      agentVersion: '0.5.0',
      at: new Date(),
    });
    a = replica(db);
    b = replica(second);
    policies = new SnapshotPoliciesService(db, new PolicyWakeups(), config, clock);
  });

  // Every test starts its clock at T0 again: the policies of the tests before must not run in its time.
  afterEach(async () => {
    await db.dataSource.query('UPDATE snapshot_policies SET enabled = false');
  });

  afterAll(async () => {
    await second?.dataSource.destroy();
    await close?.();
  });

  function replica(on: Database): Replica {
    const dispatcher = new RecordingDispatcher();
    const launcher = new JobLauncher(on, dispatcher, config);
    return {
      db: on,
      dispatcher,
      results: new JobResultsService(on, config, launcher),
      runner: new PolicyRunner(on, launcher, config, clock),
      retention: new PolicyRetentionPass(on, launcher),
    };
  }

  async function volume(name = 'ROOT') {
    const [row] = await db.repos.volumes.createMany([
      {
        organizationId,
        environmentId,
        instanceId: null,
        hostId: host.id,
        name,
        type: VolumeType.DATADISK,
        state: VolumeState.READY,
        sizeGiB: 1,
      },
    ]);
    return row;
  }

  /** Answers every job sent so far and not yet answered: `outcome` chooses per job (default: it worked). */
  async function agentsAnswer(
    outcome: (name: JobName, payload: Record<string, unknown>) => JobOutcome = (name, payload) =>
      name === JobName.DELETE_SNAPSHOT
        ? { ok: true, data: { snapshotId: payload.snapshotId as string, alreadyGone: false } }
        : { ok: true, data: { snapshotId: payload.snapshotId as string, alreadyExisted: false, sizeBytes: null } },
  ): Promise<number> {
    let answered = 0;
    for (;;) {
      const pending = [...a.dispatcher.sent, ...b.dispatcher.sent].filter((s) => !finished.has(s.envelope.jobId));
      if (pending.length === 0) return answered;
      for (const { envelope } of pending) {
        finished.add(envelope.jobId);
        answered++;
        await a.results.finished({
          kind: ResultKind.FINISHED,
          jobId: envelope.jobId,
          attempt: envelope.attempt,
          hostName: host.name,
          name: envelope.name,
          outcome: outcome(envelope.name, envelope.payload as unknown as Record<string, unknown>),
          at: new Date().toISOString(),
        });
      }
    }
  }

  const policyRow = async (id: string) => (await db.repos.snapshotPolicies.findById(ALL_ORGANIZATIONS, id))!;
  const snapshotsOf = async (policyId: string) =>
    (await db.dataSource.query<Array<{ id: string; state: SnapshotState; protected: boolean }>>(
      'SELECT id, state, protected FROM snapshots WHERE policy_id = $1 ORDER BY created_at, id',
      [policyId],
    )) as Array<{ id: string; state: SnapshotState; protected: boolean }>;
  const eventsOf = async (policyId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId: policyId }, { first: 100 })).items;

  async function createPolicy(volumeId: string, schedule: string, keep: number): Promise<SnapshotPolicyEntity> {
    clock.t = T0;
    return policies.create(member, { volumeId, schedule, timezone: 'UTC', keep });
  }

  it('two schedulers on one database over 100 occurrences take exactly 100 snapshots', async () => {
    const v = await volume('hundred');
    const policy = await createPolicy(v.id, '*/2 * * * * *', 100);
    expect(policy.nextRunAt.toISOString()).toBe(at(2).toISOString());
    for (let i = 1; i <= 100; i++) {
      clock.t = at(2 * i, 250);
      // Both replicas wake for the same occurrence, twice each: only one run and one snapshot may come of it.
      await Promise.all([a.runner.runDue(), b.runner.runDue(), a.runner.runDue(), b.runner.runDue()]);
      await agentsAnswer();
    }
    const runs = await db.repos.policyRuns.listOfPolicy(policy.id);
    expect(runs).toHaveLength(100);
    expect(new Set(runs.map((r) => r.scheduledAt.toISOString())).size).toBe(100);
    expect(runs.every((r) => r.state === PolicyRunState.SUCCEEDED)).toBe(true);
    const snapshots = await snapshotsOf(policy.id);
    expect(snapshots).toHaveLength(100);
    expect(snapshots.every((s) => s.state === SnapshotState.COMPLETED)).toBe(true);
    // Each snapshot job was sent once, by one replica or the other.
    const created = (d: RecordingDispatcher) =>
      d.sent.filter((s) => s.envelope.name === JobName.CREATE_SNAPSHOT).length;
    expect(created(a.dispatcher) + created(b.dispatcher)).toBe(100);
    const row = await policyRow(policy.id);
    expect(row.lastStatus).toBe(PolicyRunStatus.SUCCEEDED);
    expect(row.nextRunAt.toISOString()).toBe(at(202).toISOString());
    const succeeded = (await eventsOf(policy.id)).filter((e) => e.type === 'policy.run.succeeded');
    expect(succeeded).toHaveLength(100);
    expect(succeeded[0].details).toMatchObject({
      actor: 'system:scheduler',
      policyId: policy.id,
      volumeId: v.id,
      status: 'SUCCEEDED',
      notify: [],
    });
    // The snapshot's own completed event names its policy.
    const snapshotEvents = await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId: snapshots[0].id }, { first: 5 });
    expect(snapshotEvents.items.find((e) => e.type === 'snapshot.completed')?.details).toMatchObject({
      policyId: policy.id,
    });
  });

  it('an occurrence that has its run already takes no snapshot (the unique key is the backstop)', async () => {
    const v = await volume('backstop');
    const policy = await createPolicy(v.id, '*/10 * * * * *', 5);
    await db.repos.policyRuns.insertOnce({
      policyId: policy.id,
      organizationId,
      scheduledAt: at(10),
      state: PolicyRunState.SKIPPED,
      finishedAt: at(10),
    });
    clock.t = at(10, 100);
    await a.runner.runDue();
    expect(await snapshotsOf(policy.id)).toHaveLength(0);
    expect((await db.repos.policyRuns.listOfPolicy(policy.id)).map((r) => r.state)).toEqual([PolicyRunState.SKIPPED]);
    expect((await policyRow(policy.id)).nextRunAt.toISOString()).toBe(at(20).toISOString());
    // No volume left SNAPSHOTTING by the attempt that was rolled back.
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, v.id))?.state).toBe(VolumeState.READY);
  });

  it('an api stopped over three occurrences: one catch-up at start, two MISSED', async () => {
    const v = await volume('outage');
    const policy = await createPolicy(v.id, '*/10 * * * * *', 5);
    // Occurrences at +10, +20 and +30 pass with no scheduler; it starts at +33.
    clock.t = at(33);
    await a.runner.runDue();
    await agentsAnswer();
    const runs = await db.repos.policyRuns.listOfPolicy(policy.id);
    expect(runs.map((r) => [r.scheduledAt.toISOString(), r.state])).toEqual([
      [at(10).toISOString(), PolicyRunState.MISSED],
      [at(20).toISOString(), PolicyRunState.MISSED],
      [at(30).toISOString(), PolicyRunState.SUCCEEDED],
    ]);
    expect(await snapshotsOf(policy.id)).toHaveLength(1);
    const missed = (await eventsOf(policy.id)).filter((e) => e.type === 'policy.run.missed');
    expect(missed.map((e) => e.details?.scheduledAt).sort()).toEqual([at(10).toISOString(), at(20).toISOString()]);
    expect((await policyRow(policy.id)).nextRunAt.toISOString()).toBe(at(40).toISOString());
  });

  it('an occurrence that finds its volume busy is SKIPPED with an event, not queued behind', async () => {
    const v = await volume('busy');
    const policy = await createPolicy(v.id, '*/10 * * * * *', 5);
    clock.t = at(10, 100);
    await a.runner.runDue();
    // The agent has not answered: the volume is still SNAPSHOTTING at the next occurrence.
    clock.t = at(20, 100);
    await a.runner.runDue();
    const runs = await db.repos.policyRuns.listOfPolicy(policy.id);
    expect(runs.map((r) => r.state)).toEqual([PolicyRunState.RUNNING, PolicyRunState.SKIPPED]);
    const row = await policyRow(policy.id);
    expect(row.lastStatus).toBe(PolicyRunStatus.SKIPPED);
    expect(row.lastError).toMatch(/one operation per volume/);
    expect(row.retryOf).toBeNull();
    expect(row.nextRunAt.toISOString()).toBe(at(30).toISOString());
    const skipped = (await eventsOf(policy.id)).find((e) => e.type === 'policy.run.skipped');
    expect(skipped?.details).toMatchObject({ scheduledAt: at(20).toISOString(), status: 'SKIPPED' });
    await agentsAnswer();
    expect(await snapshotsOf(policy.id)).toHaveLength(1);
  });

  it('retention keep 3 over 10 runs: 3 remain, a failed delete is retried by the periodic pass, a protected one survives', async () => {
    const v = await volume('retained');
    const policy = await createPolicy(v.id, '*/10 * * * * *', 3);
    const snapshots = new SnapshotsService(db, new JobLauncher(db, a.dispatcher, config));
    let failNextDelete = false;
    for (let i = 1; i <= 10; i++) {
      clock.t = at(10 * i, 100);
      await a.runner.runDue();
      if (i === 1) {
        await agentsAnswer();
        const [first] = await snapshotsOf(policy.id);
        await snapshots.setProtection(member, first.id, true);
        continue;
      }
      if (i === 10) failNextDelete = true;
      await agentsAnswer((name, payload) => {
        if (name === JobName.DELETE_SNAPSHOT && failNextDelete) {
          failNextDelete = false;
          return { ok: false, message: 'qemu-img: Could not delete snapshot: device busy' };
        }
        return name === JobName.DELETE_SNAPSHOT
          ? { ok: true, data: { snapshotId: payload.snapshotId as string, alreadyGone: false } }
          : { ok: true, data: { snapshotId: payload.snapshotId as string, alreadyExisted: false, sizeBytes: null } };
      });
    }
    // The last run's delete failed: one snapshot over keep until the periodic pass tries again.
    let left = await snapshotsOf(policy.id);
    expect(left.filter((s) => s.protected)).toHaveLength(1);
    expect(left.filter((s) => !s.protected)).toHaveLength(4);
    expect(await a.retention.pruneAll()).toBe(1);
    await agentsAnswer();
    left = await snapshotsOf(policy.id);
    expect(left.filter((s) => !s.protected)).toHaveLength(3);
    // The protected one is the oldest, and it is still there.
    expect(left[0].protected).toBe(true);
    // The three kept are the newest three runs' snapshots.
    const runs = await db.repos.policyRuns.listOfPolicy(policy.id);
    const newest = runs.slice(-3).map((r) => r.snapshotId);
    expect(left.filter((s) => !s.protected).map((s) => s.id)).toEqual(newest);
    // Nothing more to prune.
    expect(await a.retention.pruneAll()).toBe(0);
    // Deleting the protected snapshot by hand is PRECONDITION_FAILED.
    await expect(snapshots.delete(member, left[0].id)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('a failed run (quota) is FAILED with an event and retried a bounded number of times before the next occurrence', async () => {
    const v = await volume('quota');
    const policy = await createPolicy(v.id, '0 * * * * *', 5); // every minute
    const limits = await db.repos.organizations.findById(organizationId);
    await db.repos.organizations.setLimits(organizationId, { snapshots: 0 });
    try {
      clock.t = at(60, 100);
      await a.runner.runDue();
      let row = await policyRow(policy.id);
      expect(row.lastStatus).toBe(PolicyRunStatus.FAILED);
      expect(row.lastError).toMatch(/limit|quota/i);
      expect(row.retryOf?.toISOString()).toBe(at(60).toISOString());
      expect(row.nextRunAt.toISOString()).toBe(at(62, 100).toISOString()); // base 2 s
      // Retries at +2 s and +4 s after each failure (POLICY_MAX_RETRIES 2), then it moves on to the next occurrence.
      for (let step = 0; step < 5; step++) {
        row = await policyRow(policy.id);
        clock.t = row.nextRunAt;
        if (clock.t.getTime() >= at(120).getTime()) break;
        await a.runner.runDue();
      }
      row = await policyRow(policy.id);
      expect(row.retryOf).toBeNull();
      expect(row.nextRunAt.toISOString()).toBe(at(120).toISOString());
      const [run] = await db.repos.policyRuns.listOfPolicy(policy.id);
      expect(run).toMatchObject({ state: PolicyRunState.FAILED, attempts: 3 });
      const failed = (await eventsOf(policy.id)).filter((e) => e.type === 'policy.run.failed');
      expect(failed).toHaveLength(3);
      expect(failed.every((e) => e.details?.error && e.details?.scheduledAt === at(60).toISOString())).toBe(true);
      expect(await snapshotsOf(policy.id)).toHaveLength(0);
      // Each refused attempt also tells quota.exceeded, as a refused request does, kept past its savepoint.
      const exceeded = (await eventsOf(organizationId)).filter(
        (e) => e.type === 'quota.exceeded' && e.details?.volumeId === v.id,
      );
      expect(exceeded).toHaveLength(3);
      expect(exceeded[0].details).toMatchObject({ resource: 'snapshots', limit: 0, actor: 'system:scheduler' });
    } finally {
      await db.repos.organizations.setLimits(organizationId, { snapshots: limits?.limitSnapshots ?? null });
    }
  });

  it('a driver error reported by the job fails the run and is retried once the back-off has passed', async () => {
    const v = await volume('driver');
    const policy = await createPolicy(v.id, '0 * * * * *', 5);
    clock.t = at(60, 100);
    await a.runner.runDue();
    await agentsAnswer(() => ({ ok: false, message: 'qemu-img: No space left on device' }));
    let row = await policyRow(policy.id);
    expect(row.lastStatus).toBe(PolicyRunStatus.FAILED);
    expect(row.lastError).toMatch(/No space left/);
    expect(row.retryOf?.toISOString()).toBe(at(60).toISOString());
    // The back-off counts from when the failure was recorded (the applier's clock, long before this test's): the
    // scheduler's next pass retries the same occurrence, and this time the disk has room.
    clock.t = at(61);
    await a.runner.runDue();
    await agentsAnswer();
    row = await policyRow(policy.id);
    expect(row.lastStatus).toBe(PolicyRunStatus.SUCCEEDED);
    expect(row.nextRunAt.toISOString()).toBe(at(120).toISOString());
    const [run] = await db.repos.policyRuns.listOfPolicy(policy.id);
    expect(run).toMatchObject({ state: PolicyRunState.SUCCEEDED, attempts: 2 });
    const states = (await snapshotsOf(policy.id)).map((s) => s.state).sort();
    expect(states).toEqual([SnapshotState.COMPLETED, SnapshotState.ERROR]);
  });

  it('a disabled policy runs nothing and keeps its snapshots; re-enabled, it counts from now', async () => {
    const v = await volume('paused');
    const policy = await createPolicy(v.id, '*/10 * * * * *', 1);
    clock.t = at(10, 100);
    await a.runner.runDue();
    await agentsAnswer();
    await policies.update(member, { snapshotPolicyId: policy.id, enabled: false });
    clock.t = at(100);
    expect(await a.runner.runDue()).toBe(0);
    expect(await a.retention.pruneAll()).toBe(0);
    expect(await snapshotsOf(policy.id)).toHaveLength(1);
    const row = await policies.update(member, { snapshotPolicyId: policy.id, enabled: true });
    expect(row.nextRunAt.toISOString()).toBe(at(110).toISOString());
    expect(
      (await db.repos.policyRuns.listOfPolicy(policy.id)).filter((r) => r.state === PolicyRunState.MISSED),
    ).toHaveLength(0);
  });

  it('refuses a bad schedule, zone and interval naming the field, and another organization cannot see the policy', async () => {
    const v = await volume('refusals');
    const refusal = (input: Record<string, unknown>) =>
      policies.create(member, { volumeId: v.id, schedule: '@daily', timezone: 'UTC', keep: 3, ...input });
    await expect(refusal({ timezone: 'Mars/Olympus' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'timezone' },
    });
    await expect(refusal({ schedule: '* * *' })).rejects.toMatchObject({ details: { field: 'schedule' } });
    const strict = new SnapshotPoliciesService(db, new PolicyWakeups(), loadApiConfig({}), clock);
    await expect(
      strict.create(member, { volumeId: v.id, schedule: '* * * * *', timezone: 'UTC', keep: 3 }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'schedule' } });
    const other = (await db.repos.organizations.create('other')).id;
    const stranger: Principal = { ...member, organizationId: other, userId: member.userId };
    await expect(
      policies.create(stranger, { volumeId: v.id, schedule: '@daily', timezone: 'UTC', keep: 3 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const mine = await refusal({});
    await expect(policies.delete(stranger, mine.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await policies.list(stranger, {}, { first: 10 })).items).toHaveLength(0);
  });

  it('a policy goes with its volume', async () => {
    const v = await volume('doomed');
    const policy = await createPolicy(v.id, '@daily', 3);
    await db.transaction((tx) => tx.snapshotPolicies.removeByVolumeIds([v.id]));
    expect(await db.repos.snapshotPolicies.findById(ALL_ORGANIZATIONS, policy.id)).toBeNull();
    // And by the foreign key, should a volume row go any other way.
    const w = await volume('doomed-too');
    const other = await createPolicy(w.id, '@daily', 3);
    await db.dataSource.query('DELETE FROM volumes WHERE id = $1', [w.id]);
    expect(await db.repos.snapshotPolicies.findById(ALL_ORGANIZATIONS, other.id)).toBeNull();
  });
});
