import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import {
  JobName,
  ResultKind,
  type BackupManifest,
  type JobFinishedMessage,
  type JobOutcome,
  type JobResults,
} from '@snapdeck/contracts';
import {
  BackupCompression,
  BackupMode,
  BackupState,
  ErrorCode,
  InstanceState,
  JobStatus,
  Role,
  SnapshotState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  type BackupEntity,
  type Database,
  type HostEntity,
  type InstanceEntity,
  type JobEntity,
  type JobOf,
  type VolumeEntity,
} from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import type { ApiConfig } from '../config.js';
import { InstancesService } from '../instances/instances.service.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { JobResultsService } from '../orchestration/job-results.service.js';
import { Reconciler } from '../orchestration/reconciler.service.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { SnapshotsService } from '../snapshots/snapshots.service.js';
import { VolumesService } from '../volumes/volumes.service.js';
import { BackupsService } from './backups.service.js';
import { RestoreBackupService } from './restore-backup.service.js';

/**
 * Backups on a real PostgreSQL with the queue replaced by a recorder: the service's rules (tenancy, roles,
 * limits under concurrency, dependents, busy instances), every outcome an agent (or the reconciler, for an agent
 * that never answers) can report, and both kinds of restore down to the rows and events they leave.
 */

const LEASE_SECONDS = 60;
const GIB = 1024 ** 3;

function ok<N extends JobName>(data: JobResults[N]): JobOutcome<N> {
  return { ok: true, data };
}

function refused<N extends JobName>(message: string): JobOutcome<N> {
  return { ok: false, message };
}

describe('backups (PostgreSQL)', () => {
  let db: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let launcher: JobLauncher;
  let volumes: VolumesService;
  let organizationId: string;
  let member: Principal;
  let reader: Principal;
  let stranger: Principal;
  let environmentId: string;
  let dispatcher: RecordingDispatcher;
  let results: JobResultsService;
  let reconciler: Reconciler;
  let backups: BackupsService;
  let restores: RestoreBackupService;
  let instances: InstancesService;
  let snapshots: SnapshotsService;
  let hostCount = 0;

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    ({ db, close } = await openTestDatabase());
    config = loadApiConfig({
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      JOB_MAX_ATTEMPTS: '1',
      HOST_DOWN_AFTER_SECONDS: '86400',
    });
    dispatcher = new RecordingDispatcher();
    launcher = new JobLauncher(db, dispatcher, config);
    results = new JobResultsService(db, config, launcher);
    reconciler = new Reconciler(db, launcher, results, config);
    const provisioning = new ProvisioningService(config);
    backups = new BackupsService(db, launcher, config);
    restores = new RestoreBackupService(db, launcher, provisioning);
    instances = new InstancesService(db, launcher, provisioning, config);
    snapshots = new SnapshotsService(db, launcher);
    volumes = new VolumesService(db, launcher, provisioning);

    const organization = await db.repos.organizations.create('backups');
    organizationId = organization.id;
    environmentId = (await db.repos.environments.create(organizationId, 'production')).id;
    const principalOf = async (orgId: string, email: string, role: Role): Promise<Principal> => {
      const user = await db.repos.users.create(orgId, email, role);
      return { userId: user.id, email: user.email, organizationId: orgId, role };
    };
    member = await principalOf(organizationId, 'member@backups.test', Role.MEMBER);
    reader = await principalOf(organizationId, 'reader@backups.test', Role.READ_ONLY);
    const other = await db.repos.organizations.create('elsewhere');
    stranger = await principalOf(other.id, 'admin@elsewhere.test', Role.ORG_ADMIN);
  });
  afterAll(() => close?.());

  interface Fixture {
    host: HostEntity;
    instance: InstanceEntity;
    /** In disk order: ROOT, then the data disks by name. */
    volumes: VolumeEntity[];
  }

  /** An instance on a host of its own (100 GiB of storage), in `state`, with ROOT and DATA-1 of 1 GiB, READY. */
  async function instanceIn(state: InstanceState, orgId = organizationId, envId = environmentId): Promise<Fixture> {
    const host = await db.repos.hosts.recordHeartbeat({
      hostName: `kvm-${++hostCount}`,
      driver: 'qemu-img',
      agentVersion: 't',
      at: new Date(),
      storage: { totalBytes: 100 * GIB, freeBytes: 100 * GIB },
    });
    const instance = await db.repos.instances.create({
      organizationId: orgId,
      environmentId: envId,
      hostId: host.id,
      name: `vm-${hostCount}`,
      state,
    });
    const volumes = await db.repos.volumes.createMany(
      [
        { name: 'ROOT', type: VolumeType.ROOT },
        { name: 'DATA-1', type: VolumeType.DATADISK },
      ].map((v) => ({
        ...v,
        organizationId: orgId,
        environmentId: envId,
        instanceId: instance.id,
        hostId: host.id,
        state: VolumeState.READY,
        sizeGiB: 1,
      })),
    );
    return { host, instance, volumes };
  }

  const backupRow = async (id: string) => db.repos.backups.findById(ALL_ORGANIZATIONS, id);
  const volumeStates = async (f: Fixture) =>
    Promise.all(f.volumes.map(async (v) => (await db.repos.volumes.findById(ALL_ORGANIZATIONS, v.id))!.state));
  const jobRow = async (id: string) => (await db.repos.jobs.findForOrchestration(id))!;
  const sentFor = (jobId: string) => dispatcher.sent.filter((s) => s.envelope.jobId === jobId);
  const eventsOf = async (resourceId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId }, { first: 100 })).items;

  async function finish<N extends JobName>(job: JobEntity, outcome: JobOutcome<N>): Promise<void> {
    const current = await jobRow(job.id);
    const message: JobFinishedMessage<N> = {
      kind: ResultKind.FINISHED,
      jobId: job.id,
      attempt: current.attempt,
      hostName: 'kvm',
      name: job.type as N,
      outcome,
      at: new Date().toISOString(),
    };
    expect(await results.finished(message)).toBe(true);
  }

  /** Asserts a refusal with `code` that sent nothing. */
  async function refusedWith(operation: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
    const before = dispatcher.sent.length;
    await expect(operation).rejects.toMatchObject({
      code,
      ...(message ? { message: expect.stringMatching(message) } : {}),
    });
    expect(dispatcher.sent.length).toBe(before);
  }

  /** What an agent reports for a CREATE_BACKUP job: every volume written, `sizeBytes` in all. */
  function written(job: JobEntity, sizeBytes: number): JobOutcome<JobName.CREATE_BACKUP> {
    const payload = (job as JobOf<JobName.CREATE_BACKUP>).payload;
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
        sizeBytes: Math.floor(sizeBytes / payload.volumes.length),
        backingFile: payload.parent ? `../${payload.parent.backupId}/${v.volumeId}.qcow2` : null,
      })),
    };
    return ok<JobName.CREATE_BACKUP>({
      backupId: payload.backupId,
      alreadyExisted: false,
      manifest,
      sizeBytes,
      guestPausedMs: null,
      instanceRunning: false,
    });
  }

  /** A READY backup of the fixture's instance. */
  async function readyBackup(f: Fixture, incremental = false): Promise<BackupEntity> {
    const { backup, job } = await backups.create(member, { instanceId: f.instance.id, incremental });
    await finish(job, written(job, 3 * 1024 * 1024));
    return (await backupRow(backup.id))!;
  }

  describe('createBackup', () => {
    it('defaults to SNAPSHOT, ZSTD and the default storage; marks the disks busy; READY with the manifest', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const { backup, job } = await backups.create(member, { instanceId: f.instance.id, notify: ['Ops@Example.test'] });
      expect(backup).toMatchObject({
        state: BackupState.CREATING,
        mode: BackupMode.SNAPSHOT,
        compression: BackupCompression.ZSTD,
        incremental: false,
        instanceName: f.instance.name,
        notify: ['ops@example.test'],
      });
      expect(backup.name).toMatch(new RegExp(`^${f.instance.name}_BK_\\d{14}$`));
      const storage = (await db.repos.backupStorages.findById(backup.storageId))!;
      expect(storage).toMatchObject({ name: 'default', root: 'secondary', path: 'backups' });
      expect(sentFor(job.id)).toHaveLength(1);
      expect(sentFor(job.id)[0].envelope).toMatchObject({
        name: JobName.CREATE_BACKUP,
        payload: {
          backupId: backup.id,
          storage: { root: 'secondary', path: 'backups' },
          folder: `${organizationId}/${backup.id}`,
          instanceId: f.instance.id,
          volumes: [
            { volumeId: f.volumes[0].id, name: 'ROOT', type: 'ROOT', sizeGiB: 1 },
            { volumeId: f.volumes[1].id, name: 'DATA-1', type: 'DATADISK', sizeGiB: 1 },
          ],
          // STOP mode forces the guest off after stopInstance's timeout, not an agent constant.
          stopTimeoutSeconds: config.INSTANCE_STOP_TIMEOUT_SECONDS,
        },
      });
      expect(await volumeStates(f)).toEqual([VolumeState.SNAPSHOTTING, VolumeState.SNAPSHOTTING]);

      await finish(job, written(job, 5 * 1024 * 1024));
      const ready = (await backupRow(backup.id))!;
      expect(ready).toMatchObject({ state: BackupState.READY, sizeBytes: 5 * 1024 * 1024, error: null });
      expect(ready.completedAt).toBeInstanceOf(Date);
      expect(ready.configuration.volumes[0]).toMatchObject({
        volumeId: f.volumes[0].id,
        name: 'ROOT',
        sizeGiB: 1,
        file: `${f.volumes[0].id}.qcow2`,
        sha256: 'ab'.repeat(32),
      });
      expect(ready.configuration.host).toEqual({ id: f.host.id, name: f.host.name });
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      // The completion mail goes to the backup's notify address, naming the backup and its size.
      const [event] = (await eventsOf(backup.id)).filter((e) => e.type === 'backup.completed');
      expect(event.details).toMatchObject({
        notify: ['ops@example.test'],
        sizeBytes: 5 * 1024 * 1024,
        size: '5.0 MiB',
      });
      const mails: Array<{ recipients: string[]; payload: { data: { resource: { name: string } } } }> =
        await db.dataSource.query('SELECT recipients, payload FROM notification_emails WHERE event_id = $1', [
          event.id,
        ]);
      expect(mails).toHaveLength(1);
      expect(mails[0].recipients).toEqual(['ops@example.test']);
      expect(mails[0].payload.data.resource.name).toBe(backup.name);
    });

    it('a STOPPED instance is fine in any mode; a RUNNING one too; others are refused', async () => {
      for (const mode of [BackupMode.STOP, BackupMode.SUSPEND]) {
        const f = await instanceIn(InstanceState.STOPPED);
        const { backup } = await backups.create(member, {
          instanceId: f.instance.id,
          mode,
          compression: BackupCompression.GZIP,
        });
        expect(backup).toMatchObject({ mode, compression: BackupCompression.GZIP });
      }
      const running = await instanceIn(InstanceState.RUNNING);
      expect((await backups.create(member, { instanceId: running.instance.id })).backup.state).toBe(
        BackupState.CREATING,
      );
      const starting = await instanceIn(InstanceState.STARTING);
      await refusedWith(backups.create(member, { instanceId: starting.instance.id }), ErrorCode.CONFLICT, /STARTING/);
      const broken = await instanceIn(InstanceState.ERROR);
      await refusedWith(backups.create(member, { instanceId: broken.instance.id }), ErrorCode.PRECONDITION_FAILED);
      const busyDisk = await instanceIn(InstanceState.STOPPED);
      await db.dataSource.query("UPDATE volumes SET state = 'REVERTING' WHERE id = $1", [busyDisk.volumes[1].id]);
      await refusedWith(backups.create(member, { instanceId: busyDisk.instance.id }), ErrorCode.CONFLICT, /DATA-1/);
      expect(await volumeStates(busyDisk)).toEqual([VolumeState.READY, VolumeState.REVERTING]);
    });

    it('another tenant gets NOT_FOUND (reads and writes), READ_ONLY reads, an unknown storage is NOT_FOUND', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      await refusedWith(backups.create(stranger, { instanceId: f.instance.id }), ErrorCode.NOT_FOUND);
      await refusedWith(
        backups.create(member, { instanceId: f.instance.id, storageId: '01900000-0000-7000-8000-000000000000' }),
        ErrorCode.NOT_FOUND,
        /BackupStorage/,
      );
      await refusedWith(
        backups.create(member, { instanceId: f.instance.id, notify: ['not an address'] }),
        ErrorCode.BAD_USER_INPUT,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      const { backup } = await backups.create(member, { instanceId: f.instance.id });
      expect(await backups.findById(stranger, backup.id)).toBeNull();
      expect((await backups.findById(reader, backup.id))?.id).toBe(backup.id);
      expect((await backups.list(stranger, { instanceId: f.instance.id }, {})).items).toEqual([]);
      expect((await backups.list(reader, { instanceId: f.instance.id }, {})).items.map((b) => b.id)).toEqual([
        backup.id,
      ]);
      await refusedWith(backups.delete(stranger, backup.id), ErrorCode.NOT_FOUND);
    });

    it('while a backup is CREATING its instance cannot start, stop, be destroyed, snapshotted or backed up again', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const { backup, job } = await backups.create(member, { instanceId: f.instance.id });
      await refusedWith(backups.create(member, { instanceId: f.instance.id }), ErrorCode.CONFLICT, /being created/);
      await refusedWith(instances.start(member, f.instance.id), ErrorCode.CONFLICT, /Snapshot in progress/);
      await refusedWith(instances.destroy(member, f.instance.id, false), ErrorCode.CONFLICT);
      await refusedWith(snapshots.create(member, { volumeId: f.volumes[0].id }), ErrorCode.CONFLICT);
      await refusedWith(backups.delete(member, backup.id), ErrorCode.CONFLICT, /being created/);
      const running = await instanceIn(InstanceState.RUNNING);
      await backups.create(member, { instanceId: running.instance.id });
      await refusedWith(instances.stop(member, running.instance.id), ErrorCode.CONFLICT);
      await finish(job, refused<JobName.CREATE_BACKUP>('the storage is full'));
      expect(await backupRow(backup.id)).toMatchObject({ state: BackupState.ERROR, error: 'the storage is full' });
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      const failed = (await eventsOf(backup.id)).find((e) => e.type === 'backup.failed')!;
      expect(failed.details).toMatchObject({ error: 'the storage is full', instanceName: f.instance.name });
      // The instance is usable again.
      const { job: start } = await instances.start(member, f.instance.id);
      expect(start.type).toBe(JobName.START_INSTANCE);
    });

    it('a running guest the agent could not start again after a STOP backup is shown STOPPED, never hidden', async () => {
      const kept = await instanceIn(InstanceState.RUNNING);
      const first = await backups.create(member, { instanceId: kept.instance.id, mode: BackupMode.STOP });
      const back = written(first.job, 1024) as { ok: true; data: JobResults[JobName.CREATE_BACKUP] };
      back.data.instanceRunning = true;
      await finish(first.job, back);
      expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, kept.instance.id))!.state).toBe(
        InstanceState.RUNNING,
      );

      const lost = await instanceIn(InstanceState.RUNNING);
      const second = await backups.create(member, { instanceId: lost.instance.id, mode: BackupMode.STOP });
      await finish(second.job, written(second.job, 1024));
      expect((await backupRow(second.backup.id))!.state).toBe(BackupState.READY);
      expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, lost.instance.id))!.state).toBe(
        InstanceState.STOPPED,
      );
      expect((await eventsOf(lost.instance.id)).map((e) => e.type)).toContain('instance.stopped');
    });

    it('a job whose lease lapses ends ERROR with a backup.failed event, never CREATING forever', async () => {
      const f = await instanceIn(InstanceState.RUNNING);
      const { backup, job } = await backups.create(member, { instanceId: f.instance.id, mode: BackupMode.STOP });
      await reconciler.reconcileOnce(new Date(Date.now() + (LEASE_SECONDS + 1) * 1000));
      expect((await jobRow(job.id)).status).toBe(JobStatus.FAILED);
      expect(await backupRow(backup.id)).toMatchObject({
        state: BackupState.ERROR,
        error: expect.stringContaining('No result from host') as unknown,
      });
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect((await eventsOf(backup.id)).map((e) => e.type)).toContain('backup.failed');
      // ERROR can only be deleted.
      const { backup: deleting, job: del } = await backups.delete(member, backup.id);
      expect(deleting.state).toBe(BackupState.DESTROYING);
      await finish(del, ok<JobName.DELETE_BACKUP>({ alreadyGone: true }));
      expect(await backupRow(backup.id)).toBeNull();
    });
  });

  describe('limits', () => {
    it('20 concurrent createBackup never pass the backups limit', async () => {
      const org = await db.repos.organizations.create('backup-count', { backups: 5 });
      const env = await db.repos.environments.create(org.id, 'prod');
      const user = await db.repos.users.create(org.id, 'm@backup-count.test', Role.MEMBER);
      const p: Principal = { userId: user.id, email: user.email, organizationId: org.id, role: Role.MEMBER };
      const fixtures: Fixture[] = [];
      for (let i = 0; i < 20; i++) fixtures.push(await instanceIn(InstanceState.STOPPED, org.id, env.id));
      const outcomes = await Promise.allSettled(fixtures.map((f) => backups.create(p, { instanceId: f.instance.id })));
      const accepted = outcomes.filter((o) => o.status === 'fulfilled');
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(accepted).toHaveLength(5);
      expect(rejected.map((r) => (r.reason as { code: string }).code)).toEqual(
        Array(15).fill(ErrorCode.QUOTA_EXCEEDED),
      );
      expect((await db.repos.organizations.usage(org.id)).backups).toBe(5);
      // A refused backup left its disks as they were.
      const busy = (await Promise.all(fixtures.map(volumeStates))).flat().filter((s) => s === VolumeState.SNAPSHOTTING);
      expect(busy).toHaveLength(5 * 2);
    });

    it('backupGiB reserves the disks’ virtual size while CREATING, then counts the bytes written', async () => {
      // Every fixture has 2 GiB of disks: a 5 GiB limit takes two backups being written at once, not three.
      const org = await db.repos.organizations.create('backup-gib', { backupGiB: 5 });
      const env = await db.repos.environments.create(org.id, 'prod');
      const user = await db.repos.users.create(org.id, 'm@backup-gib.test', Role.MEMBER);
      const p: Principal = { userId: user.id, email: user.email, organizationId: org.id, role: Role.MEMBER };
      const fixtures: Fixture[] = [];
      for (let i = 0; i < 20; i++) fixtures.push(await instanceIn(InstanceState.STOPPED, org.id, env.id));
      const outcomes = await Promise.allSettled(fixtures.map((f) => backups.create(p, { instanceId: f.instance.id })));
      const accepted = outcomes.filter(
        (o): o is PromiseFulfilledResult<{ backup: BackupEntity; job: JobEntity }> => o.status === 'fulfilled',
      );
      expect(accepted).toHaveLength(2);
      expect((await db.repos.organizations.usage(org.id)).backupGiB).toBe(4);
      // Written: 100 MiB each, so the usage drops to 1 GiB (rounded up) and room is back.
      for (const { value } of accepted) await finish(value.job, written(value.job, 100 * 1024 * 1024));
      expect((await db.repos.organizations.usage(org.id)).backupGiB).toBe(1);
      const next = fixtures.find((f) => !accepted.some((a) => a.value.backup.instanceId === f.instance.id))!;
      expect((await backups.create(p, { instanceId: next.instance.id })).backup.state).toBe(BackupState.CREATING);
      expect((await db.repos.organizations.usage(org.id)).backupGiB).toBe(3);
    });
  });

  describe('incrementals and deleteBackup', () => {
    it('an incremental names its newest READY parent; the parent cannot be deleted while it has children', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const full = await readyBackup(f);
      const { backup: child, job } = await backups.create(member, { instanceId: f.instance.id, incremental: true });
      expect(child).toMatchObject({ incremental: true, parentId: full.id });
      expect(sentFor(job.id)[0].envelope.payload).toMatchObject({
        parent: { backupId: full.id, folder: `${organizationId}/${full.id}` },
      });
      await finish(job, written(job, 1024 * 1024));
      await refusedWith(
        backups.delete(member, full.id),
        ErrorCode.PRECONDITION_FAILED,
        new RegExp(`parent of incremental backup\\(s\\) ${(await backupRow(child.id))!.name}`),
      );
      expect((await backupRow(full.id))!.state).toBe(BackupState.READY);

      // The newest first: the child, then the parent.
      const { job: delChild } = await backups.delete(member, child.id);
      await finish(delChild, ok<JobName.DELETE_BACKUP>({ alreadyGone: false }));
      expect(await backupRow(child.id)).toBeNull();
      const { job: delFull } = await backups.delete(member, full.id);
      await refusedWith(backups.delete(member, full.id), ErrorCode.CONFLICT, /being deleted/);
      // A refused delete returns it to READY (it completed once).
      await finish(delFull, refused<JobName.DELETE_BACKUP>('permission denied on the storage'));
      expect(await backupRow(full.id)).toMatchObject({
        state: BackupState.READY,
        error: 'Delete failed: permission denied on the storage',
      });
      expect((await eventsOf(full.id)).map((e) => e.type)).toContain('backup.delete_failed');
    });

    it('an incremental the agent wrote as a full copy (its manifest says so) depends on nothing', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const full = await readyBackup(f);
      const { backup, job } = await backups.create(member, { instanceId: f.instance.id, incremental: true });
      expect(backup.parentId).toBe(full.id);
      const reported = written(job, 1024) as { ok: true; data: JobResults[JobName.CREATE_BACKUP] };
      reported.data.manifest = { ...reported.data.manifest, incremental: false, parentBackupId: null };
      await finish(job, reported);
      expect(await backupRow(backup.id)).toMatchObject({
        state: BackupState.READY,
        incremental: false,
        parentId: null,
        chainLength: 1,
        fullReason: 'the parent backup is gone from its storage or damaged: the agent wrote a full copy',
      });
      expect((await backups.delete(member, full.id)).backup.state).toBe(BackupState.DESTROYING);
    });

    it('incremental without a READY parent is a full backup, and says why', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const { backup } = await backups.create(member, { instanceId: f.instance.id, incremental: true });
      expect(backup).toMatchObject({
        incremental: false,
        parentId: null,
        chainLength: 1,
        fullReason: `instance ${f.instance.name} has no READY backup on storage default`,
      });
    });

    it('a chain holds BACKUP_FULL_EVERY backups: the next incremental asked for starts a new chain', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const everyThird = new BackupsService(db, launcher, { ...config, BACKUP_FULL_EVERY: 3 });
      const chain: BackupEntity[] = [];
      for (let i = 0; i < 5; i++) {
        const { backup, job } = await everyThird.create(member, { instanceId: f.instance.id, incremental: true });
        await finish(job, written(job, 1024));
        chain.push((await backupRow(backup.id))!);
      }
      expect(chain.map((b) => [b.chainLength, b.parentId])).toEqual([
        [1, null],
        [2, chain[0].id],
        [3, chain[1].id],
        [1, null],
        [2, chain[3].id],
      ]);
      expect(chain[3]).toMatchObject({ incremental: false, fullReason: expect.stringMatching(/BACKUP_FULL_EVERY=3/) });
      expect(chain[4]).toMatchObject({ incremental: true, fullReason: null });
    });

    it('a revert since the newest backup makes the next one full, and the chain starts again from it', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const full = await readyBackup(f);
      const before = await db.repos.snapshots.create({
        organizationId,
        environmentId,
        volumeId: f.volumes[1].id,
        instanceId: f.instance.id,
        name: 'before',
        description: null,
        state: SnapshotState.COMPLETED,
        lastJobId: null,
      });
      const { job: revert } = await volumes.revert(member, before.id);
      await finish(revert, ok<JobName.REVERT_SNAPSHOT>({ snapshotId: before.id }));
      const afterRevert = await readyBackup(f, true);
      expect(afterRevert).toMatchObject({
        incremental: false,
        chainLength: 1,
        fullReason: `volume ${f.volumes[1].name} was reverted or restored since backup ${full.name}`,
      });
      expect(await readyBackup(f, true)).toMatchObject({ incremental: true, parentId: afterRevert.id, chainLength: 2 });
    });

    it('a disk resized since the newest backup makes the next one full, naming that backup', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const full = await readyBackup(f);
      await db.dataSource.query('UPDATE volumes SET size_gib = size_gib + 1 WHERE instance_id = $1', [f.instance.id]);
      const { backup } = await backups.create(member, { instanceId: f.instance.id, incremental: true });
      expect(backup).toMatchObject({
        incremental: false,
        fullReason: `the disks changed (added, removed or resized) since backup ${full.name}`,
      });
    });
  });

  describe('backup storages', () => {
    it('platform administrators register absolute normalized paths; names are unique', async () => {
      const storage = await backups.createStorage({ name: 'nfs-1', path: '/mnt/nfs-1/backups' });
      expect(storage).toMatchObject({ name: 'nfs-1', root: 'absolute', path: '/mnt/nfs-1/backups' });
      await expect(backups.createStorage({ name: 'nfs-1', path: '/mnt/other' })).rejects.toMatchObject({
        code: ErrorCode.CONFLICT,
      });
      for (const path of ['relative/path', '/mnt/../etc', '/mnt//x', '/mnt/x/']) {
        await expect(backups.createStorage({ name: 'bad', path })).rejects.toMatchObject({
          code: ErrorCode.BAD_USER_INPUT,
        });
      }
      const names = (await backups.listStorages({ first: 100 })).items.map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['default', 'nfs-1']));
      expect(names).not.toContain('bad');
      const f = await instanceIn(InstanceState.STOPPED);
      const { job } = await backups.create(member, { instanceId: f.instance.id, storageId: storage.id });
      expect(sentFor(job.id)[0].envelope.payload).toMatchObject({
        storage: { root: 'absolute', path: '/mnt/nfs-1/backups' },
      });
    });
  });

  describe('restoreBackup', () => {
    it('into a new instance: CREATING until RESTORE_BACKUP writes its volumes, then STOPPED, READY', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(f);
      const { instance, job } = await restores.restore(member, {
        backupId: backup.id,
        environmentId,
        name: 'restored-1',
      });
      expect(instance).toMatchObject({ name: 'restored-1', state: InstanceState.CREATING });
      const volumes = await db.repos.volumes.findByInstance(instance.id);
      expect(volumes.map((v) => [v.name, v.type, v.sizeGiB, v.state]).sort()).toEqual([
        ['DATA-1', VolumeType.DATADISK, 1, VolumeState.CREATING],
        ['ROOT', VolumeType.ROOT, 1, VolumeState.CREATING],
      ]);
      const payload = (job as JobOf<JobName.RESTORE_BACKUP>).payload;
      expect(payload).toMatchObject({ instanceId: instance.id, overwrite: false, chain: [{ backupId: backup.id }] });
      const root = volumes.find((v) => v.name === 'ROOT')!;
      expect(payload.targets).toContainEqual({ sourceVolumeId: f.volumes[0].id, volumeId: root.id, sizeGiB: 1 });
      await refusedWith(backups.delete(member, backup.id), ErrorCode.CONFLICT, /being restored/);

      await finish(job, ok<JobName.RESTORE_BACKUP>({ restored: volumes.map((v) => v.id), verifiedFiles: 2 }));
      expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, instance.id))!.state).toBe(InstanceState.STOPPED);
      expect((await db.repos.volumes.findByInstance(instance.id)).map((v) => v.state)).toEqual([
        VolumeState.READY,
        VolumeState.READY,
      ]);
      expect((await eventsOf(backup.id)).map((e) => e.type)).toContain('restore.completed');
    });

    it('into a new instance is quota-checked like createInstance, and a failed one leaves it ERROR', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(f);
      await db.repos.organizations.setLimits(organizationId, { volumeGiB: 0 });
      try {
        await refusedWith(
          restores.restore(member, { backupId: backup.id, environmentId, name: 'too-big' }),
          ErrorCode.QUOTA_EXCEEDED,
        );
      } finally {
        await db.repos.organizations.setLimits(organizationId, { volumeGiB: null });
      }
      const { instance, job } = await restores.restore(member, { backupId: backup.id, environmentId, name: 'fails-1' });
      await finish(job, refused<JobName.RESTORE_BACKUP>('sha256 of ROOT does not match its manifest'));
      expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, instance.id))!.state).toBe(InstanceState.ERROR);
      const failed = (await eventsOf(backup.id)).find((e) => e.type === 'restore.failed')!;
      expect(failed.details).toMatchObject({ error: 'sha256 of ROOT does not match its manifest' });
    });

    it('refuses bad combinations, another tenant, and a backup that is not READY', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(f);
      await refusedWith(restores.restore(member, { backupId: backup.id }), ErrorCode.BAD_USER_INPUT);
      await refusedWith(
        restores.restore(member, { backupId: backup.id, instanceId: f.instance.id, environmentId }),
        ErrorCode.BAD_USER_INPUT,
      );
      await refusedWith(restores.restore(member, { backupId: backup.id, environmentId }), ErrorCode.BAD_USER_INPUT);
      await refusedWith(
        restores.restore(stranger, { backupId: backup.id, environmentId, name: 'x' }),
        ErrorCode.NOT_FOUND,
      );
      const { backup: creating } = await backups.create(member, {
        instanceId: (await instanceIn(InstanceState.STOPPED)).instance.id,
      });
      await refusedWith(
        restores.restore(member, { backupId: creating.id, environmentId, name: 'y' }),
        ErrorCode.CONFLICT,
        /CREATING/,
      );
    });

    it('over its own instance: STOPPED only; a destroyed instance’s backup only into a new one', async () => {
      const running = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(running);
      await db.dataSource.query("UPDATE instances SET state = 'RUNNING' WHERE id = $1", [running.instance.id]);
      await refusedWith(
        restores.restore(member, { backupId: backup.id, instanceId: running.instance.id }),
        ErrorCode.PRECONDITION_FAILED,
        /STOPPED/,
      );
      const other = await instanceIn(InstanceState.STOPPED);
      await refusedWith(
        restores.restore(member, { backupId: backup.id, instanceId: other.instance.id }),
        ErrorCode.PRECONDITION_FAILED,
        /own instance/,
      );

      const gone = await instanceIn(InstanceState.STOPPED);
      const orphan = await readyBackup(gone);
      const { job } = await instances.destroy(member, gone.instance.id, false);
      await finish(job, ok<JobName.DESTROY_VOLUMES>({ destroyed: gone.volumes.map((v) => v.id) }));
      expect(await db.repos.instances.findById(ALL_ORGANIZATIONS, gone.instance.id)).toBeNull();
      const kept = (await backupRow(orphan.id))!;
      expect(kept).toMatchObject({ instanceId: null, instanceName: gone.instance.name, state: BackupState.READY });
      const { instance } = await restores.restore(member, { backupId: orphan.id, environmentId, name: 'reborn' });
      expect(instance.name).toBe('reborn');
    });

    it('over its own instance: a safety snapshot of every disk first, then RESTORE_BACKUP over them', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(f);
      const { instance, job: first } = await restores.restore(member, {
        backupId: backup.id,
        instanceId: f.instance.id,
      });
      expect(instance.id).toBe(f.instance.id);
      expect(first.type).toBe(JobName.CREATE_SNAPSHOT);
      const safety = (await db.repos.snapshots.findByVolumeIds(f.volumes.map((v) => v.id))).filter(
        (s) => s.pendingRestoreBackupId === backup.id,
      );
      expect(safety).toHaveLength(2);
      expect(safety.every((s) => s.state === SnapshotState.IN_PROGRESS)).toBe(true);
      const safetyJobs = await Promise.all(safety.map((s) => jobRow(s.lastJobId!)));
      expect(safetyJobs.every((j) => sentFor(j.id).length === 1)).toBe(true);
      expect(await volumeStates(f)).toEqual([VolumeState.SNAPSHOTTING, VolumeState.SNAPSHOTTING]);
      // Meanwhile the instance is busy.
      await refusedWith(instances.start(member, f.instance.id), ErrorCode.CONFLICT);

      const restoreJobs = () =>
        dispatcher.sent.filter(
          (s) => s.envelope.name === JobName.RESTORE_BACKUP && s.envelope.payload.instanceId === f.instance.id,
        );
      const sizeBytes = 65536;
      await finish(
        safetyJobs[0],
        ok<JobName.CREATE_SNAPSHOT>({ snapshotId: safety[0].id, alreadyExisted: false, sizeBytes }),
      );
      expect(restoreJobs()).toHaveLength(0);
      await finish(
        safetyJobs[1],
        ok<JobName.CREATE_SNAPSHOT>({ snapshotId: safety[1].id, alreadyExisted: false, sizeBytes }),
      );
      expect(restoreJobs()).toHaveLength(1);
      const restore = restoreJobs()[0].envelope;
      expect(restore.payload).toMatchObject({
        overwrite: true,
        chain: [{ backupId: backup.id }],
        targets: [
          { sourceVolumeId: f.volumes[0].id, volumeId: f.volumes[0].id, sizeGiB: 1 },
          { sourceVolumeId: f.volumes[1].id, volumeId: f.volumes[1].id, sizeGiB: 1 },
        ],
      });
      expect(await volumeStates(f)).toEqual([VolumeState.REVERTING, VolumeState.REVERTING]);
      // The restore fails: the safety snapshots stay, COMPLETED, ordinary ones now; the disks are usable.
      await finish(await jobRow(restore.jobId), refused<JobName.RESTORE_BACKUP>('the storage went away'));
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      for (const s of safety) {
        expect(await db.repos.snapshots.findById(ALL_ORGANIZATIONS, s.id)).toMatchObject({
          state: SnapshotState.COMPLETED,
          pendingRestoreBackupId: null,
        });
      }
      expect((await eventsOf(backup.id)).map((e) => e.type)).toContain('restore.failed');

      // Again, and this time it succeeds.
      await restores.restore(member, { backupId: backup.id, instanceId: f.instance.id });
      const again = (await db.repos.snapshots.findByVolumeIds(f.volumes.map((v) => v.id))).filter(
        (s) => s.pendingRestoreBackupId === backup.id,
      );
      for (const s of again) {
        await finish(
          await jobRow(s.lastJobId!),
          ok<JobName.CREATE_SNAPSHOT>({ snapshotId: s.id, alreadyExisted: false, sizeBytes }),
        );
      }
      expect(restoreJobs()).toHaveLength(2);
      await finish(
        await jobRow(restoreJobs()[1].envelope.jobId),
        ok<JobName.RESTORE_BACKUP>({ restored: f.volumes.map((v) => v.id), verifiedFiles: 2 }),
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, f.instance.id))!.state).toBe(InstanceState.STOPPED);
      expect((await eventsOf(backup.id)).map((e) => e.type)).toContain('restore.completed');
      // The disks were rewritten: an incremental asked for now starts a new chain.
      expect(await readyBackup(f, true)).toMatchObject({
        incremental: false,
        fullReason: expect.stringMatching(/was reverted or restored since backup/),
      });
    });

    it('a failed safety snapshot gives the restore up: nothing is overwritten', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const backup = await readyBackup(f);
      await restores.restore(member, { backupId: backup.id, instanceId: f.instance.id });
      const safety = (await db.repos.snapshots.findByVolumeIds(f.volumes.map((v) => v.id))).filter(
        (s) => s.pendingRestoreBackupId === backup.id,
      );
      const before = dispatcher.sent.filter((s) => s.envelope.name === JobName.RESTORE_BACKUP).length;
      await finish(await jobRow(safety[0].lastJobId!), refused<JobName.CREATE_SNAPSHOT>('no space left'));
      await finish(
        await jobRow(safety[1].lastJobId!),
        ok<JobName.CREATE_SNAPSHOT>({ snapshotId: safety[1].id, alreadyExisted: false, sizeBytes: 1 }),
      );
      expect(dispatcher.sent.filter((s) => s.envelope.name === JobName.RESTORE_BACKUP).length).toBe(before);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      const failed = (await eventsOf(backup.id)).find((e) => e.type === 'restore.failed')!;
      expect(failed.message).toMatch(/Nothing was restored: a safety snapshot/);
      // The restore is no longer pending: the backup can be deleted.
      const { backup: deleting } = await backups.delete(member, backup.id);
      expect(deleting.state).toBe(BackupState.DESTROYING);
    });
  });
});
