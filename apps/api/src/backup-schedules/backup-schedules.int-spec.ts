import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import {
  JobName,
  ResultKind,
  type BackupManifest,
  type CreateBackupPayload,
  type JobOutcome,
} from '@snapdeck/contracts';
import {
  BackupState,
  ErrorCode,
  HostState,
  InstanceState,
  PolicyRunStatus,
  Role,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  createDataSource,
  Database,
  type BackupScheduleEntity,
  type HostEntity,
  type InstanceEntity,
} from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import { BackupsService } from '../backups/backups.service.js';
import type { ApiConfig } from '../config.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { JobResultsService } from '../orchestration/job-results.service.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import type { Clock } from '../snapshot-policies/clock.js';
import { BackupSchedulePrunePass } from './backup-schedule-prune-pass.js';
import { BackupScheduleRunner, NO_INSTANCE_LEFT } from './backup-schedule-runner.js';
import { BackupScheduleWakeups } from './backup-scheduler.service.js';
import { BackupSchedulesService } from './backup-schedules.service.js';
import type { CreateBackupScheduleInput } from './dto/backup-schedule.inputs.js';

/**
 * Backup schedules on a real PostgreSQL, in the policy scheduler's test style: time is a clock the test sets,
 * two "replicas" (two connection pools on one database) run the same due schedules, and agents are played by
 * feeding each sent job's result back through JobResultsService. A backup's created_at (the database's now()) is
 * set to the test clock's time when it starts, so prune periods follow the clock.
 */

const T0 = new Date('2030-01-07T10:00:00.000Z');
const at = (seconds: number, ms = 0) => new Date(T0.getTime() + seconds * 1000 + ms);
const GIB = 1024 ** 3;

class TestClock implements Clock {
  t = T0;
  now(): Date {
    return this.t;
  }
}

interface Replica {
  dispatcher: RecordingDispatcher;
  results: JobResultsService;
  runner: BackupScheduleRunner;
  prune: BackupSchedulePrunePass;
}

describe('backup schedules on a real database', () => {
  let db: Database;
  let second: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let organizationId: string;
  let environmentId: string;
  let member: Principal;
  let reader: Principal;
  let stranger: Principal;
  const clock = new TestClock();
  let a: Replica;
  let b: Replica;
  let schedules: BackupSchedulesService;
  let backups: BackupsService;
  let hostCount = 0;
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
      POLICY_RETRY_BASE_SECONDS: '1',
      HOST_DOWN_AFTER_SECONDS: '86400',
    });
    organizationId = (await db.repos.organizations.create('scheduled-backups')).id;
    environmentId = (await db.repos.environments.create(organizationId, 'production')).id;
    const principalOf = async (orgId: string, email: string, role: Role): Promise<Principal> => {
      const user = await db.repos.users.create(orgId, email, role);
      return { userId: user.id, email: user.email, organizationId: orgId, role };
    };
    member = await principalOf(organizationId, 'member@sched.test', Role.MEMBER);
    reader = await principalOf(organizationId, 'reader@sched.test', Role.READ_ONLY);
    stranger = await principalOf((await db.repos.organizations.create('other')).id, 'x@other.test', Role.ORG_ADMIN);
    a = replica(db);
    b = replica(second);
    schedules = new BackupSchedulesService(db, new BackupScheduleWakeups(), config, clock);
    backups = new BackupsService(db, new JobLauncher(db, a.dispatcher, config), config);
  });

  // Every test starts its clock at T0 again: the schedules of the tests before must not run in its time.
  afterEach(async () => {
    await db.dataSource.query('UPDATE backup_schedules SET enabled = false');
  });

  afterAll(async () => {
    await second?.dataSource.destroy();
    await close?.();
  });

  function replica(on: Database): Replica {
    const dispatcher = new RecordingDispatcher();
    const launcher = new JobLauncher(on, dispatcher, config);
    return {
      dispatcher,
      results: new JobResultsService(on, config, launcher),
      runner: new BackupScheduleRunner(on, launcher, config, clock),
      prune: new BackupSchedulePrunePass(on, launcher),
    };
  }

  /** A STOPPED instance on a host of its own, with one READY ROOT disk of 1 GiB. */
  async function instance(): Promise<{ instance: InstanceEntity; host: HostEntity }> {
    const host = await db.repos.hosts.recordHeartbeat({
      hostName: `kvm-sched-${++hostCount}`,
      driver: 'qemu-img',
      agentVersion: 't',
      at: new Date(),
      storage: { totalBytes: 100 * GIB, freeBytes: 100 * GIB },
    });
    const row = await db.repos.instances.create({
      organizationId,
      environmentId,
      hostId: host.id,
      name: `vm-sched-${hostCount}`,
      state: InstanceState.STOPPED,
    });
    await db.repos.volumes.createMany([
      {
        name: 'ROOT',
        type: VolumeType.ROOT,
        organizationId,
        environmentId,
        instanceId: row.id,
        hostId: host.id,
        state: VolumeState.READY,
        sizeGiB: 1,
      },
    ]);
    return { instance: row, host };
  }

  function written(payload: CreateBackupPayload): JobOutcome<JobName.CREATE_BACKUP> {
    const manifest: BackupManifest = {
      format: 1,
      backupId: payload.backupId,
      organizationId: payload.organizationId,
      instanceId: payload.instanceId,
      instanceName: payload.instanceName,
      mode: payload.mode,
      compression: payload.compression,
      incremental: payload.parent !== undefined,
      parentBackupId: payload.parent?.backupId ?? null,
      instanceWasRunning: false,
      quiesced: false,
      startedAt: new Date().toISOString(),
      completedAt: new Date().toISOString(),
      volumes: payload.volumes.map((v) => ({
        volumeId: v.volumeId,
        name: v.name,
        type: v.type,
        virtualSizeBytes: v.sizeGiB * GIB,
        file: `${v.volumeId}.qcow2`,
        sha256: 'ab'.repeat(32),
        sizeBytes: 1024 * 1024,
        backingFile: payload.parent ? `../${payload.parent.backupId}/${v.volumeId}.qcow2` : null,
      })),
    };
    return {
      ok: true,
      data: {
        backupId: payload.backupId,
        alreadyExisted: false,
        manifest,
        sizeBytes: 1024 * 1024,
        guestPausedMs: null,
        instanceRunning: false,
      },
    };
  }

  /** Answers every job sent so far and not yet answered (backups written, deletes done) until none is left. */
  async function agentsAnswer(
    outcome: (name: JobName, payload: unknown) => JobOutcome = (name, payload) =>
      name === JobName.DELETE_BACKUP
        ? { ok: true, data: { alreadyGone: false } }
        : written(payload as CreateBackupPayload),
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
          hostName: 'kvm',
          name: envelope.name,
          outcome: outcome(envelope.name, envelope.payload),
          at: new Date().toISOString(),
        });
      }
    }
  }

  /** Both replicas wake for the occurrence at `t`, twice each; the backups started get the clock's time. */
  async function occurrence(schedule: BackupScheduleEntity, t: Date, answer = true): Promise<void> {
    clock.t = t;
    await Promise.all([a.runner.runDue(), b.runner.runDue(), a.runner.runDue(), b.runner.runDue()]);
    await db.dataSource.query(`UPDATE backups SET created_at = $1 WHERE schedule_id = $2 AND state = 'CREATING'`, [
      t,
      schedule.id,
    ]);
    if (answer) await agentsAnswer();
  }

  async function createSchedule(
    instanceIds: string[],
    schedule: string,
    extra: Partial<CreateBackupScheduleInput> = {},
  ): Promise<BackupScheduleEntity> {
    clock.t = T0;
    return schedules.create(member, { instanceIds, schedule, timezone: 'UTC', ...extra });
  }

  const scheduleRow = async (id: string) => (await db.repos.backupSchedules.findById(ALL_ORGANIZATIONS, id))!;
  const backupsOf = async (scheduleId: string) =>
    db.dataSource.query<
      Array<{
        id: string;
        instance_id: string;
        state: BackupState;
        incremental: boolean;
        parent_id: string | null;
        chain_length: number;
        created_at: Date;
      }>
    >(
      'SELECT id, instance_id, state, incremental, parent_id, chain_length, created_at FROM backups WHERE schedule_id = $1 ORDER BY created_at, id',
      [scheduleId],
    );
  const eventsOf = async (scheduleId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId: scheduleId }, { first: 100 })).items;

  it('two schedulers over 10 occurrences start exactly one backup per instance per occurrence; runs chain incrementals', async () => {
    const [x, y] = [await instance(), await instance()];
    const schedule = await createSchedule([x.instance.id, y.instance.id], '*/2 * * * * *', {
      notify: ['ops@sched.test'],
    });
    expect(schedule.nextRunAt.toISOString()).toBe(at(2).toISOString());
    for (let i = 1; i <= 10; i++) await occurrence(schedule, at(2 * i, 250));
    const runs = await db.repos.backupSchedules.runsOf(schedule.id);
    expect(runs).toHaveLength(10);
    expect(runs.every((r) => r.status === PolicyRunStatus.SUCCEEDED)).toBe(true);
    const rows = await backupsOf(schedule.id);
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.state === BackupState.READY)).toBe(true);
    const created = (d: RecordingDispatcher) => d.sent.filter((s) => s.envelope.name === JobName.CREATE_BACKUP).length;
    expect(created(a.dispatcher) + created(b.dispatcher)).toBe(20);
    for (const f of [x, y]) {
      const chain = rows.filter((r) => r.instance_id === f.instance.id);
      expect(chain).toHaveLength(10);
      // A full backup, then incrementals each on the one before, until the chain holds BACKUP_FULL_EVERY (7).
      chain.forEach((backup, i) =>
        expect(backup).toMatchObject(
          i % config.BACKUP_FULL_EVERY === 0
            ? { incremental: false, parent_id: null, chain_length: 1 }
            : { incremental: true, parent_id: chain[i - 1].id, chain_length: (i % config.BACKUP_FULL_EVERY) + 1 },
        ),
      );
    }
    // The backups carry the schedule's addresses and were asked for by the scheduler (no user).
    const one = (await db.repos.backups.findById(ALL_ORGANIZATIONS, rows[0].id))!;
    expect(one.notify).toEqual(['ops@sched.test']);
    const job = (await db.repos.jobs.findForOrchestration(one.jobId!))!;
    expect(job.createdByUserId).toBeNull();
    const row = await scheduleRow(schedule.id);
    expect(row).toMatchObject({ lastStatus: PolicyRunStatus.SUCCEEDED, lastError: null });
    expect(row.nextRunAt.toISOString()).toBe(at(22).toISOString());
    const succeeded = (await eventsOf(schedule.id)).filter((e) => e.type === 'policy.run.succeeded');
    expect(succeeded).toHaveLength(10);
    expect(succeeded[0].details).toMatchObject({ actor: 'system:scheduler', backupScheduleId: schedule.id });
  });

  it('an api down over three occurrences: one catch-up and two MISSED, never a burst', async () => {
    const x = await instance();
    const schedule = await createSchedule([x.instance.id], '*/10 * * * * *');
    await occurrence(schedule, at(10, 100));
    // Down from 10 s to 45 s: 20, 30 and 40 pass; 40 is within one interval of 45, so it runs late.
    await occurrence(schedule, at(45));
    const runs = await db.repos.backupSchedules.runsOf(schedule.id);
    expect(runs.map((r) => [r.scheduledAt.toISOString(), r.status])).toEqual([
      [at(10).toISOString(), PolicyRunStatus.SUCCEEDED],
      [at(20).toISOString(), PolicyRunStatus.MISSED],
      [at(30).toISOString(), PolicyRunStatus.MISSED],
      [at(40).toISOString(), PolicyRunStatus.SUCCEEDED],
    ]);
    expect(await backupsOf(schedule.id)).toHaveLength(2);
    const missed = (await eventsOf(schedule.id)).filter((e) => e.type === 'policy.run.missed');
    expect(missed).toHaveLength(2);
    expect((await scheduleRow(schedule.id)).nextRunAt.toISOString()).toBe(at(50).toISOString());
  });

  it('an instance whose backup is still being written is SKIPPED with an event; the others are backed up', async () => {
    const [busy, free] = [await instance(), await instance()];
    const schedule = await createSchedule([busy.instance.id, free.instance.id], '*/10 * * * * *', {
      notify: ['ops@sched.test'],
    });
    const manual = await backups.create(member, { instanceId: busy.instance.id });
    await occurrence(schedule, at(10), false);
    const [run] = await db.repos.backupSchedules.runsOf(schedule.id);
    expect(run.status).toBe(PolicyRunStatus.SUCCEEDED);
    expect(run.results).toEqual(
      [
        expect.objectContaining({
          instanceId: busy.instance.id,
          status: PolicyRunStatus.SKIPPED,
          code: ErrorCode.CONFLICT,
        }),
        expect.objectContaining({ instanceId: free.instance.id, status: PolicyRunStatus.SUCCEEDED }),
      ].sort((p, q) => ((p as { instanceId: string }).instanceId < (q as { instanceId: string }).instanceId ? -1 : 1)),
    );
    const skipped = (await eventsOf(schedule.id)).filter((e) => e.type === 'policy.run.skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0].details).toMatchObject({ instanceId: busy.instance.id, notify: ['ops@sched.test'] });
    // Only the free instance got a scheduled backup; the manual one is untouched.
    expect((await backupsOf(schedule.id)).map((r) => r.instance_id)).toEqual([free.instance.id]);
    expect((await db.repos.backups.findById(ALL_ORGANIZATIONS, manual.backup.id))!.state).toBe(BackupState.CREATING);
    await agentsAnswer();
  });

  it('a refusal FAILS the run with an event to the notify addresses, retried before the next occurrence only', async () => {
    const x = await instance();
    const schedule = await createSchedule([x.instance.id], '0 * * * * *', { notify: ['ops@sched.test'] });
    await db.dataSource.query('UPDATE hosts SET state = $1 WHERE id = $2', [HostState.DOWN, x.host.id]);
    await occurrence(schedule, at(60));
    let row = await scheduleRow(schedule.id);
    expect(row.lastStatus).toBe(PolicyRunStatus.FAILED);
    expect(row.retryOf?.toISOString()).toBe(at(60).toISOString());
    expect(row.nextRunAt.toISOString()).toBe(at(61).toISOString());
    const failed = (await eventsOf(schedule.id)).filter((e) => e.type === 'policy.run.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].details).toMatchObject({ instanceId: x.instance.id, notify: ['ops@sched.test'], attempt: 1 });
    // The outbox mails it to the schedule's address, naming the schedule and the instance.
    const [mail] = await db.dataSource.query<Array<{ recipients: string[]; payload: Record<string, any> }>>(
      'SELECT recipients, payload FROM notification_emails WHERE event_id = $1',
      [failed[0].id],
    );
    expect(mail.recipients).toEqual(['ops@sched.test']);
    expect(mail.payload).toMatchObject({
      type: 'policy.run.failed',
      data: {
        actor: 'system:scheduler',
        resource: { type: 'BackupSchedule', id: schedule.id },
        instance: { id: x.instance.id, name: x.instance.name },
        scheduledAt: at(60).toISOString(),
      },
    });
    // Second attempt fails too (back-off 2 s), the third (after the last retry allowed) gives up until 120.
    await occurrence(schedule, at(61));
    row = await scheduleRow(schedule.id);
    expect(row.nextRunAt.toISOString()).toBe(at(63).toISOString());
    await occurrence(schedule, at(63));
    row = await scheduleRow(schedule.id);
    expect(row).toMatchObject({ retryOf: null, lastStatus: PolicyRunStatus.FAILED });
    expect(row.nextRunAt.toISOString()).toBe(at(120).toISOString());
    const [run] = await db.repos.backupSchedules.runsOf(schedule.id);
    expect(run).toMatchObject({ status: PolicyRunStatus.FAILED, attempts: 3 });
    expect(await backupsOf(schedule.id)).toHaveLength(0);
    // Host back: the next occurrence runs.
    await db.dataSource.query('UPDATE hosts SET state = $1 WHERE id = $2', [HostState.UP, x.host.id]);
    await occurrence(schedule, at(120));
    expect(await backupsOf(schedule.id)).toHaveLength(1);
    expect((await scheduleRow(schedule.id)).lastStatus).toBe(PolicyRunStatus.SUCCEEDED);
  });

  it('a retry that succeeds backs up only the instance that failed', async () => {
    const [down, up] = [await instance(), await instance()];
    const schedule = await createSchedule([down.instance.id, up.instance.id], '0 * * * * *');
    await db.dataSource.query('UPDATE hosts SET state = $1 WHERE id = $2', [HostState.DOWN, down.host.id]);
    await occurrence(schedule, at(60));
    expect((await backupsOf(schedule.id)).map((r) => r.instance_id)).toEqual([up.instance.id]);
    await db.dataSource.query('UPDATE hosts SET state = $1 WHERE id = $2', [HostState.UP, down.host.id]);
    await occurrence(schedule, at(61));
    const rows = await backupsOf(schedule.id);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.instance_id))).toEqual(new Set([down.instance.id, up.instance.id]));
    const [run] = await db.repos.backupSchedules.runsOf(schedule.id);
    expect(run).toMatchObject({ status: PolicyRunStatus.SUCCEEDED, attempts: 2 });
  });

  it('keepLast 3 over 10 full runs: 3 remain, the newest; a manual backup is never pruned', async () => {
    const x = await instance();
    const manual = await backups.create(member, { instanceId: x.instance.id });
    await agentsAnswer();
    const schedule = await createSchedule([x.instance.id], '*/2 * * * * *', {
      incremental: false,
      retention: { keepLast: 3 },
    });
    for (let i = 1; i <= 10; i++) await occurrence(schedule, at(2 * i));
    const rows = await backupsOf(schedule.id);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.created_at.toISOString())).toEqual([at(16), at(18), at(20)].map((d) => d.toISOString()));
    expect((await db.repos.backups.findById(ALL_ORGANIZATIONS, manual.backup.id))!.state).toBe(BackupState.READY);
  });

  it("keepDaily 2 counts days in the schedule's zone (Europe/Madrid), not UTC's", async () => {
    const x = await instance();
    // Local 00:30, 06:30, 12:30, 18:30 in Madrid (UTC+1): 23:30, 05:30, 11:30, 17:30 UTC.
    const schedule = await schedules.create(member, {
      instanceIds: [x.instance.id],
      schedule: '30 */6 * * *',
      timezone: 'Europe/Madrid',
      incremental: false,
      retention: { keepDaily: 2 },
    });
    const first = schedule.nextRunAt;
    expect(first.toISOString()).toBe('2030-01-07T11:30:00.000Z');
    for (let i = 0; i < 12; i++) await occurrence(schedule, new Date(first.getTime() + i * 6 * 3600_000 + 100));
    // The last run is 2030-01-10 05:30 UTC (06:30 in Madrid on the 10th); the day before in Madrid ended with its
    // 18:30 run (17:30 UTC on the 9th). UTC days would have kept 23:30 UTC on the 9th instead (00:30 on the 10th
    // in Madrid, the same local day as the last).
    const kept = (await backupsOf(schedule.id)).map((r) => r.created_at.toISOString());
    expect(kept).toEqual(['2030-01-09T17:30:00.100Z', '2030-01-10T05:30:00.100Z']);
  });

  it('chained incrementals keep the parents that kept backups need; a broken chain lets the periodic pass prune them', async () => {
    const x = await instance();
    const schedule = await createSchedule([x.instance.id], '*/2 * * * * *', { retention: { keepLast: 1 } });
    for (let i = 1; i <= 3; i++) await occurrence(schedule, at(2 * i));
    let rows = await backupsOf(schedule.id);
    // keepLast 1 keeps the newest; it is an incremental on the two before, which are needed.
    expect(rows.map((r) => [r.incremental, r.state])).toEqual([
      [false, BackupState.READY],
      [true, BackupState.READY],
      [true, BackupState.READY],
    ]);
    const chain = rows.map((r) => r.id);
    // A resized disk breaks the chain: the next run is a full backup and the old chain may go, newest first.
    await db.dataSource.query('UPDATE volumes SET size_gib = 2 WHERE instance_id = $1', [x.instance.id]);
    await occurrence(schedule, at(8), false);
    await agentsAnswer((name, payload) => {
      // The delete of the old chain's newest is answered; the parents' deletes were refused (it still existed).
      expect(name === JobName.CREATE_BACKUP || (payload as { backupId: string }).backupId === chain[2]).toBe(true);
      return name === JobName.DELETE_BACKUP
        ? { ok: true, data: { alreadyGone: false } }
        : written(payload as CreateBackupPayload);
    });
    rows = await backupsOf(schedule.id);
    expect(rows.map((r) => r.id)).toEqual([chain[0], chain[1], rows[2].id]);
    expect(rows[2]).toMatchObject({ incremental: false, state: BackupState.READY });
    // The periodic pass deletes the rest, one generation per pass (a child's row goes before its parent's delete).
    expect(await a.prune.pruneAll()).toBe(1);
    await agentsAnswer();
    expect(await b.prune.pruneAll()).toBe(1);
    await agentsAnswer();
    expect(await a.prune.pruneAll()).toBe(0);
    expect((await backupsOf(schedule.id)).map((r) => r.id)).toEqual([rows[2].id]);
  });

  it('an instance destroyed leaves the schedule with the others; with none left the schedule is disabled', async () => {
    const [x, y] = [await instance(), await instance()];
    const schedule = await createSchedule([x.instance.id, y.instance.id], '*/10 * * * * *');
    await db.dataSource.query('DELETE FROM volumes WHERE instance_id = $1', [x.instance.id]);
    await db.dataSource.query('DELETE FROM instances WHERE id = $1', [x.instance.id]);
    expect(await db.repos.backupSchedules.instanceIdsOf(schedule.id)).toEqual([y.instance.id]);
    await occurrence(schedule, at(10));
    expect((await backupsOf(schedule.id)).map((r) => r.instance_id)).toEqual([y.instance.id]);
    await db.dataSource.query('DELETE FROM backups WHERE instance_id = $1', [y.instance.id]);
    await db.dataSource.query('DELETE FROM volumes WHERE instance_id = $1', [y.instance.id]);
    await db.dataSource.query('DELETE FROM instances WHERE id = $1', [y.instance.id]);
    await occurrence(schedule, at(20));
    expect(await scheduleRow(schedule.id)).toMatchObject({ enabled: false, lastError: NO_INSTANCE_LEFT });
  });

  describe('validation and tenancy', () => {
    it.each([
      [{ schedule: 'every day' }, 'schedule'],
      [{ schedule: '0 0 31 2 *' }, 'schedule'],
      [{ timezone: 'Mars/Olympus' }, 'timezone'],
      [{ retention: { keepLast: -1 } }, 'retention.keepLast'],
      [{ retention: { keepWeekly: 101 } }, 'retention.keepWeekly'],
      [{ notify: ['not-an-address'] }, 'notify'],
      [{ instanceIds: [] }, 'instanceIds'],
    ] as const)('%j is BAD_USER_INPUT naming %s, nothing created', async (change, field) => {
      const x = await instance();
      const before = (await schedules.list(member, { first: 100 })).items.length;
      await expect(
        schedules.create(member, {
          instanceIds: [x.instance.id],
          schedule: '@daily',
          timezone: 'UTC',
          ...(change as Partial<CreateBackupScheduleInput>),
        }),
      ).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field } });
      expect((await schedules.list(member, { first: 100 })).items.length).toBe(before);
    });

    it('a schedule more frequent than POLICY_MIN_INTERVAL_SECONDS is BAD_USER_INPUT naming schedule', async () => {
      const x = await instance();
      const strict = new BackupSchedulesService(db, new BackupScheduleWakeups(), loadApiConfig({}), clock);
      await expect(
        strict.create(member, { instanceIds: [x.instance.id], schedule: '*/2 * * * *', timezone: 'UTC' }),
      ).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'schedule' } });
    });

    it("another organization's instance is NOT_FOUND; its schedules are invisible and not deletable", async () => {
      const x = await instance();
      await expect(
        schedules.create(stranger, { instanceIds: [x.instance.id], schedule: '@daily', timezone: 'UTC' }),
      ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      const schedule = await schedules.create(member, {
        instanceIds: [x.instance.id],
        schedule: '@daily',
        timezone: 'Europe/Madrid',
        retention: { keepDaily: 7, keepWeekly: 4 },
      });
      expect((await schedules.list(reader, { first: 100 })).items.map((s) => s.id)).toContain(schedule.id);
      expect((await schedules.list(stranger, { first: 100 })).items).toHaveLength(0);
      await expect(schedules.delete(stranger, schedule.id)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      await expect(schedules.update(stranger, { backupScheduleId: schedule.id, enabled: false })).rejects.toMatchObject(
        { code: ErrorCode.NOT_FOUND },
      );
      expect(schedule.retention).toEqual({ keepDaily: 7, keepWeekly: 4 });
      // Updates: new rules replace the old; a new schedule counts from now.
      clock.t = T0;
      const updated = await schedules.update(member, {
        backupScheduleId: schedule.id,
        schedule: '0 3 * * *',
        retention: { keepLast: 2 },
      });
      expect(updated.retention).toEqual({ keepLast: 2 });
      expect(updated.nextRunAt.toISOString()).toBe('2030-01-08T02:00:00.000Z');
      await schedules.delete(member, schedule.id);
      expect((await schedules.list(member, { first: 100 })).items.map((s) => s.id)).not.toContain(schedule.id);
    });
  });
});
