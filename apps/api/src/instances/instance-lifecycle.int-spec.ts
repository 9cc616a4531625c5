import { ConsoleLogger, Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import { JobName, ResultKind, type JobFinishedMessage, type JobOutcome, type JobResults } from '@snapdeck/contracts';
import { ErrorCode, InstanceState, JobStatus, Role, SnapshotState, VolumeState, VolumeType } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  type Database,
  type HostEntity,
  type InstanceEntity,
  type JobEntity,
  type VolumeEntity,
} from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import type { ApiConfig } from '../config.js';
import { GraphQLContext } from '../graphql/context.js';
import { InstanceSnapshotsResolver } from '../instance-snapshots/instance-snapshots.resolver.js';
import { InstanceSnapshotsService } from '../instance-snapshots/instance-snapshots.service.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { JobResultsService } from '../orchestration/job-results.service.js';
import { Reconciler } from '../orchestration/reconciler.service.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { SnapshotsService } from '../snapshots/snapshots.service.js';
import { VolumesService } from '../volumes/volumes.service.js';
import { InstancesService } from './instances.service.js';

/**
 * Running instances and instance snapshots on a real PostgreSQL, with the queue replaced by a recorder: every
 * precondition of start, stop, live snapshots and instance snapshots, and every outcome an agent (or the
 * reconciler, for an agent that never answers) can report, down to the rows it leaves.
 */

const LEASE_SECONDS = 60;
const STOP_TIMEOUT = 42;

function ok<N extends JobName>(data: JobResults[N]): JobOutcome<N> {
  return { ok: true, data };
}

function refused<N extends JobName>(message: string): JobOutcome<N> {
  return { ok: false, message };
}

describe('running instances and instance snapshots', () => {
  let db: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let principal: Principal;
  let stranger: Principal;
  let environmentId: string;
  let dispatcher: RecordingDispatcher;
  let results: JobResultsService;
  let reconciler: Reconciler;
  let instances: InstancesService;
  let snapshots: SnapshotsService;
  let volumesService: VolumesService;
  let instanceSnapshots: InstanceSnapshotsService;
  let hostCount = 0;

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    ({ db, close } = await openTestDatabase());
    config = loadApiConfig({
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      JOB_MAX_ATTEMPTS: '1',
      HOST_DOWN_AFTER_SECONDS: '86400',
      INSTANCE_STOP_TIMEOUT_SECONDS: String(STOP_TIMEOUT),
    });
    dispatcher = new RecordingDispatcher();
    const launcher = new JobLauncher(db, dispatcher, config);
    results = new JobResultsService(db, config, launcher);
    reconciler = new Reconciler(db, launcher, results, config);
    const provisioning = new ProvisioningService(config);
    instances = new InstancesService(db, launcher, provisioning, config);
    snapshots = new SnapshotsService(db, launcher);
    volumesService = new VolumesService(db, launcher, provisioning);
    instanceSnapshots = new InstanceSnapshotsService(db, launcher);

    const organization = await db.repos.organizations.create('lifecycle');
    environmentId = (await db.repos.environments.create(organization.id, 'production')).id;
    const user = await db.repos.users.create(organization.id, 'member@lifecycle.test', Role.MEMBER);
    principal = { userId: user.id, email: user.email, organizationId: organization.id, role: Role.MEMBER };
    const other = await db.repos.organizations.create('elsewhere');
    const otherUser = await db.repos.users.create(other.id, 'admin@elsewhere.test', Role.ORG_ADMIN);
    stranger = { userId: otherUser.id, email: otherUser.email, organizationId: other.id, role: Role.ORG_ADMIN };
  });
  afterAll(() => close?.());

  interface Fixture {
    host: HostEntity;
    instance: InstanceEntity;
    /** In disk order: ROOT, then the data disks by name. */
    volumes: VolumeEntity[];
  }

  /** An instance on a host of its own, in `state`, with a ROOT and the given data disks, all READY. */
  async function instanceIn(
    state: InstanceState,
    dataDisks: string[] = ['DATA-1'],
    size: { cpuCount?: number; memoryMiB?: number } = {},
  ): Promise<Fixture> {
    const host = await db.repos.hosts.recordHeartbeat({
      hostName: `kvm-${++hostCount}`,
      driver: 'libvirt',
      agentVersion: 't',
      at: new Date(),
    });
    const instance = await db.repos.instances.create({
      organizationId: principal.organizationId,
      environmentId,
      hostId: host.id,
      name: `vm-${hostCount}`,
      state,
      ...size,
    });
    const volumes = await db.repos.volumes.createMany(
      [{ name: 'ROOT', type: VolumeType.ROOT }, ...dataDisks.map((name) => ({ name, type: VolumeType.DATADISK }))].map(
        (v) => ({
          ...v,
          organizationId: principal.organizationId,
          environmentId,
          instanceId: instance.id,
          hostId: host.id,
          state: VolumeState.READY,
          sizeGiB: 1,
        }),
      ),
    );
    return { host, instance, volumes };
  }

  const instanceState = async (id: string) => (await db.repos.instances.findById(ALL_ORGANIZATIONS, id))?.state;
  const volumeStates = async (f: Fixture) =>
    Promise.all(f.volumes.map(async (v) => (await db.repos.volumes.findById(ALL_ORGANIZATIONS, v.id))!.state));
  const findInstanceSnapshot = (id: string) => db.repos.instanceSnapshots.findById(ALL_ORGANIZATIONS, id);
  const jobRow = async (id: string) => (await db.repos.jobs.findForOrchestration(id))!;
  const sentFor = (jobId: string) => dispatcher.sent.filter((s) => s.envelope.jobId === jobId);
  const setVolume = (id: string, state: VolumeState) =>
    db.dataSource.query('UPDATE volumes SET state = $1 WHERE id = $2', [state, id]);
  const events = async (resourceId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId }, { first: 100 })).items.map((e) => e.type);

  async function finish<N extends JobName>(job: JobEntity, outcome: JobOutcome<N>): Promise<void> {
    const message: JobFinishedMessage<N> = {
      kind: ResultKind.FINISHED,
      jobId: job.id,
      attempt: job.attempt,
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

  /** A RUNNING instance the way users get one: startInstance, and the agent reports it started. */
  async function runningInstance(dataDisks?: string[]): Promise<Fixture> {
    const f = await instanceIn(InstanceState.STOPPED, dataDisks);
    const { job } = await instances.start(principal, f.instance.id);
    await finish(job, ok<JobName.START_INSTANCE>({ instanceId: f.instance.id, alreadyRunning: false }));
    expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
    return f;
  }

  /** A COMPLETED instance snapshot of the fixture's instance. */
  async function completedInstanceSnapshot(f: Fixture, withMemory = false) {
    const op = await instanceSnapshots.create(principal, { instanceId: f.instance.id, withMemory });
    await finish(
      op.job,
      ok<JobName.CREATE_INSTANCE_SNAPSHOT>({
        instanceSnapshotId: op.instanceSnapshot.id,
        alreadyExisted: false,
        quiesced: false,
      }),
    );
    return op.instanceSnapshot;
  }

  describe('startInstance', () => {
    it('moves STOPPED to STARTING and sends START_INSTANCE with the disks in disk order and its size; success is RUNNING', async () => {
      const f = await instanceIn(InstanceState.STOPPED, ['DATA-10', 'DATA-2', 'DATA-1'], {
        cpuCount: 3,
        memoryMiB: 768,
      });
      const { instance, job } = await instances.start(principal, f.instance.id);
      expect(instance.state).toBe(InstanceState.STARTING);
      expect(job).toMatchObject({ type: JobName.START_INSTANCE, attempt: 1, resourceType: 'Instance' });
      const byName = (name: string) => f.volumes.find((v) => v.name === name)!.id;
      expect(sentFor(job.id)).toEqual([
        {
          hostName: f.host.name,
          envelope: expect.objectContaining({
            name: JobName.START_INSTANCE,
            payload: {
              instanceId: f.instance.id,
              volumeIds: ['ROOT', 'DATA-1', 'DATA-2', 'DATA-10'].map(byName),
              cpuCount: 3,
              memoryMiB: 768,
            },
          }) as unknown,
        },
      ]);
      await finish(job, ok<JobName.START_INSTANCE>({ instanceId: f.instance.id, alreadyRunning: false }));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
      expect(await events(f.instance.id)).toEqual(['instance.started']);
    });

    it('closes a job whose instance was moved behind its back, and says so at error level', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const { job } = await instances.start(principal, f.instance.id);
      // Only SQL from outside could do this: the instance leaves STARTING while its job runs.
      expect(await db.repos.instances.transition(f.instance.id, [InstanceState.STARTING], InstanceState.ERROR)).toBe(
        true,
      );
      const errors: unknown[] = [];
      const quiet = () => undefined;
      Logger.overrideLogger({ log: quiet, warn: quiet, debug: quiet, verbose: quiet, error: (m) => errors.push(m) });
      try {
        await finish(job, ok<JobName.START_INSTANCE>({ instanceId: f.instance.id, alreadyRunning: false }));
      } finally {
        Logger.overrideLogger(process.env.E2E_LOG ? new ConsoleLogger() : false);
      }
      expect(await instanceState(f.instance.id)).toBe(InstanceState.ERROR);
      expect((await jobRow(job.id)).status).toBe(JobStatus.SUCCEEDED);
      expect(errors).toEqual([
        expect.objectContaining({
          msg: `job ${job.id} (${JobName.START_INSTANCE}) moved 0 of 1 instance: not in the state the job left them in`,
          jobId: job.id,
          resourceId: f.instance.id,
        }),
      ]);
    });

    it('returns the instance to STOPPED when the hypervisor refuses, with the reason on the job', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const { job } = await instances.start(principal, f.instance.id);
      await finish(job, refused<JobName.START_INSTANCE>('domain i-x: no bootable disk'));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.STOPPED);
      expect(await jobRow(job.id)).toMatchObject({ status: JobStatus.FAILED, error: 'domain i-x: no bootable disk' });
      expect(await events(f.instance.id)).toEqual(['instance.start_failed']);
    });

    it.each([InstanceState.RUNNING, InstanceState.ERROR])(
      'refuses an instance %s: PRECONDITION_FAILED',
      async (state) => {
        const f = await instanceIn(state);
        await refusedWith(instances.start(principal, f.instance.id), ErrorCode.PRECONDITION_FAILED);
        expect(await instanceState(f.instance.id)).toBe(state);
      },
    );

    it.each([InstanceState.CREATING, InstanceState.STARTING, InstanceState.STOPPING, InstanceState.DESTROYING])(
      'refuses an instance %s: CONFLICT',
      async (state) => {
        const f = await instanceIn(state);
        await refusedWith(instances.start(principal, f.instance.id), ErrorCode.CONFLICT);
        expect(await instanceState(f.instance.id)).toBe(state);
      },
    );

    it.each([
      [VolumeState.SNAPSHOTTING, ErrorCode.CONFLICT],
      [VolumeState.REVERTING, ErrorCode.CONFLICT],
      [VolumeState.CREATING, ErrorCode.CONFLICT],
      [VolumeState.ERROR, ErrorCode.PRECONDITION_FAILED],
    ])('refuses while a volume is %s: %s, and the instance stays STOPPED', async (volumeState, code) => {
      const f = await instanceIn(InstanceState.STOPPED);
      await setVolume(f.volumes[1].id, volumeState);
      await refusedWith(instances.start(principal, f.instance.id), code, /DATA-1/);
      expect(await instanceState(f.instance.id)).toBe(InstanceState.STOPPED);
    });

    it("is NOT_FOUND for another organization's instance", async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      await refusedWith(instances.start(stranger, f.instance.id), ErrorCode.NOT_FOUND);
      await refusedWith(instances.stop(stranger, f.instance.id), ErrorCode.NOT_FOUND);
    });
  });

  describe('stopInstance', () => {
    it('moves RUNNING to STOPPING with the configured timeout; success is STOPPED', async () => {
      const f = await runningInstance();
      const { instance, job } = await instances.stop(principal, f.instance.id);
      expect(instance.state).toBe(InstanceState.STOPPING);
      expect(sentFor(job.id)[0].envelope).toMatchObject({
        name: JobName.STOP_INSTANCE,
        payload: { instanceId: f.instance.id, volumeIds: f.volumes.map((v) => v.id), timeoutSeconds: STOP_TIMEOUT },
      });
      await finish(job, ok<JobName.STOP_INSTANCE>({ instanceId: f.instance.id, alreadyStopped: false, forced: true }));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.STOPPED);
      expect(await events(f.instance.id)).toEqual(['instance.started', 'instance.stopped'].reverse());
    });

    it('returns the instance to RUNNING when the stop fails', async () => {
      const f = await runningInstance();
      const { job } = await instances.stop(principal, f.instance.id);
      await finish(job, refused<JobName.STOP_INSTANCE>('virsh destroy failed'));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
    });

    it.each([
      [InstanceState.STOPPED, ErrorCode.PRECONDITION_FAILED],
      [InstanceState.ERROR, ErrorCode.PRECONDITION_FAILED],
      [InstanceState.STARTING, ErrorCode.CONFLICT],
      [InstanceState.STOPPING, ErrorCode.CONFLICT],
    ])('refuses an instance %s: %s', async (state, code) => {
      const f = await instanceIn(state);
      await refusedWith(instances.stop(principal, f.instance.id), code);
      expect(await instanceState(f.instance.id)).toBe(state);
    });

    it('refuses (CONFLICT) while a live snapshot of one of its volumes is being taken', async () => {
      const f = await runningInstance();
      await snapshots.create(principal, { volumeId: f.volumes[0].id });
      await refusedWith(instances.stop(principal, f.instance.id), ErrorCode.CONFLICT, /Snapshot in progress/);
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
    });
  });

  describe('the reconciler settles what no agent answered', () => {
    it('a lapsed start is STOPPED, a lapsed stop RUNNING, a lapsed instance snapshot ERROR with its volumes READY', async () => {
      const starting = await instanceIn(InstanceState.STOPPED);
      const start = await instances.start(principal, starting.instance.id);
      const stopping = await runningInstance();
      const stop = await instances.stop(principal, stopping.instance.id);
      const snapshotting = await runningInstance();
      const create = await instanceSnapshots.create(principal, {
        instanceId: snapshotting.instance.id,
        withMemory: true,
      });
      const reverting = await instanceIn(InstanceState.STOPPED);
      const revert = await instanceSnapshots.revert(principal, (await completedInstanceSnapshot(reverting)).id, true);

      await reconciler.reconcileOnce(new Date(Date.now() + (LEASE_SECONDS + 1) * 1000));

      for (const job of [start.job, stop.job, create.job, revert.job])
        expect((await jobRow(job.id)).status).toBe(JobStatus.FAILED);
      expect(await instanceState(starting.instance.id)).toBe(InstanceState.STOPPED);
      expect(await instanceState(stopping.instance.id)).toBe(InstanceState.RUNNING);
      expect(await findInstanceSnapshot(create.instanceSnapshot.id)).toMatchObject({
        state: SnapshotState.ERROR,
        error: expect.stringContaining('No result from host') as unknown,
      });
      expect(await volumeStates(snapshotting)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect(await instanceState(reverting.instance.id)).toBe(InstanceState.STOPPED);
      expect(await volumeStates(reverting)).toEqual([VolumeState.READY, VolumeState.READY]);
    });
  });

  describe('createSnapshot of an attached volume', () => {
    it("takes a RUNNING instance's volume live: the job names the instance; quiesced is what the agent says", async () => {
      const f = await runningInstance();
      const op = await snapshots.create(principal, { volumeId: f.volumes[0].id, quiesce: true });
      expect(sentFor(op.job.id)[0].envelope.payload).toEqual({
        volumeId: f.volumes[0].id,
        snapshotId: op.snapshot.id,
        instanceId: f.instance.id,
        quiesce: true,
      });
      await finish(
        op.job,
        ok<JobName.CREATE_SNAPSHOT>({
          snapshotId: op.snapshot.id,
          alreadyExisted: false,
          sizeBytes: 1,
          quiesced: true,
        }),
      );
      expect(await db.repos.snapshots.findById(ALL_ORGANIZATIONS, op.snapshot.id)).toMatchObject({
        state: SnapshotState.COMPLETED,
        quiesced: true,
      });
    });

    it('records quiesced false when the agent does not say (an older agent)', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const op = await snapshots.create(principal, { volumeId: f.volumes[1].id });
      expect(op.snapshot.quiesced).toBe(false);
      expect(sentFor(op.job.id)[0].envelope.payload).toEqual({
        volumeId: f.volumes[1].id,
        snapshotId: op.snapshot.id,
        instanceId: f.instance.id,
        quiesce: false,
      });
      await finish(
        op.job,
        ok<JobName.CREATE_SNAPSHOT>({ snapshotId: op.snapshot.id, alreadyExisted: false, sizeBytes: 1 }),
      );
      expect(await db.repos.snapshots.findById(ALL_ORGANIZATIONS, op.snapshot.id)).toMatchObject({
        state: SnapshotState.COMPLETED,
        quiesced: false,
      });
    });

    it.each([InstanceState.STARTING, InstanceState.STOPPING])(
      'refuses a volume of an instance %s: CONFLICT, the volume stays READY',
      async (state) => {
        const f = await instanceIn(state);
        await refusedWith(snapshots.create(principal, { volumeId: f.volumes[0].id }), ErrorCode.CONFLICT);
        expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      },
    );

    it('refuses quiesce unless the instance is RUNNING: PRECONDITION_FAILED, also for a detached volume', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      await refusedWith(
        snapshots.create(principal, { volumeId: f.volumes[0].id, quiesce: true }),
        ErrorCode.PRECONDITION_FAILED,
        /quiesce needs a running instance/,
      );
      const [detached] = await db.repos.volumes.createMany([
        {
          organizationId: principal.organizationId,
          environmentId,
          instanceId: null,
          hostId: f.host.id,
          name: 'loose',
          type: VolumeType.DATADISK,
          state: VolumeState.READY,
          sizeGiB: 1,
        },
      ]);
      await refusedWith(
        snapshots.create(principal, { volumeId: detached.id, quiesce: true }),
        ErrorCode.PRECONDITION_FAILED,
        /detached/,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });
  });

  describe('revertVolumeToSnapshot', () => {
    it('refuses a volume of an instance made RUNNING by startInstance (PRECONDITION_FAILED), and goes ahead once stopped', async () => {
      const f = await runningInstance();
      const snap = await snapshots.create(principal, { volumeId: f.volumes[0].id });
      await finish(
        snap.job,
        ok<JobName.CREATE_SNAPSHOT>({ snapshotId: snap.snapshot.id, alreadyExisted: false, sizeBytes: 1 }),
      );
      await refusedWith(volumesService.revert(principal, snap.snapshot.id), ErrorCode.PRECONDITION_FAILED, /RUNNING/);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);

      const stop = await instances.stop(principal, f.instance.id);
      await finish(
        stop.job,
        ok<JobName.STOP_INSTANCE>({ instanceId: f.instance.id, alreadyStopped: false, forced: false }),
      );
      const revert = await volumesService.revert(principal, snap.snapshot.id);
      expect(revert.volume.state).toBe(VolumeState.REVERTING);
      // A disk being reverted must not be booted: start waits for it.
      await refusedWith(instances.start(principal, f.instance.id), ErrorCode.CONFLICT, /REVERTING/);
    });
  });

  describe('createInstanceSnapshot', () => {
    it('takes every volume of a STOPPED instance: auto-named, volumes SNAPSHOTTING, then COMPLETED and READY', async () => {
      const f = await instanceIn(InstanceState.STOPPED, ['DATA-2', 'DATA-1']);
      const op = await instanceSnapshots.create(principal, { instanceId: f.instance.id, description: 'nightly' });
      expect(op.instanceSnapshot).toMatchObject({
        state: SnapshotState.IN_PROGRESS,
        withMemory: false,
        quiesced: false,
        description: 'nightly',
        instanceId: f.instance.id,
      });
      expect(op.instanceSnapshot.name).toMatch(new RegExp(`^${f.instance.name}_VS_\\d{14}$`));
      const ordered = ['ROOT', 'DATA-1', 'DATA-2'].map((n) => f.volumes.find((v) => v.name === n)!.id);
      expect(op.instanceSnapshot.volumeIds).toEqual(ordered);
      const disks = ['ROOT', 'DATA-1', 'DATA-2'].map((name, i) => ({
        volumeId: ordered[i],
        name,
        device: ['vda', 'vdb', 'vdc'][i],
        sizeGiB: 1,
      }));
      expect(op.instanceSnapshot.configuration).toEqual({ cpuCount: 1, memoryMiB: 512, memorySaved: false, disks });
      expect(sentFor(op.job.id)[0]).toMatchObject({
        hostName: f.host.name,
        envelope: {
          name: JobName.CREATE_INSTANCE_SNAPSHOT,
          payload: {
            instanceId: f.instance.id,
            volumeIds: ordered,
            instanceSnapshotId: op.instanceSnapshot.id,
            withMemory: false,
            quiesce: false,
          },
        },
      });
      expect(await volumeStates(f)).toEqual([
        VolumeState.SNAPSHOTTING,
        VolumeState.SNAPSHOTTING,
        VolumeState.SNAPSHOTTING,
      ]);

      // Meanwhile every volume is busy: a snapshot, a revert, a start and a second instance snapshot wait.
      await refusedWith(snapshots.create(principal, { volumeId: f.volumes[0].id }), ErrorCode.CONFLICT);
      await refusedWith(instances.start(principal, f.instance.id), ErrorCode.CONFLICT);
      await refusedWith(instanceSnapshots.create(principal, { instanceId: f.instance.id }), ErrorCode.CONFLICT);
      await refusedWith(instanceSnapshots.delete(principal, op.instanceSnapshot.id), ErrorCode.CONFLICT, /in progress/);

      await finish(
        op.job,
        ok<JobName.CREATE_INSTANCE_SNAPSHOT>({
          instanceSnapshotId: op.instanceSnapshot.id,
          alreadyExisted: false,
          quiesced: false,
          snapshotXml: '<domainsnapshot/>',
        }),
      );
      expect(await findInstanceSnapshot(op.instanceSnapshot.id)).toMatchObject({
        state: SnapshotState.COMPLETED,
        completedAt: expect.any(Date) as unknown,
        error: null,
        configuration: {
          cpuCount: 1,
          memoryMiB: 512,
          memorySaved: false,
          disks,
          quiesced: false,
          libvirtXml: '<domainsnapshot/>',
        },
      });
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY, VolumeState.READY]);
      expect(await events(op.instanceSnapshot.id)).toEqual(['instance_snapshot.completed']);

      // A second automatic name within the same second is told apart.
      const again = await instanceSnapshots.create(principal, { instanceId: f.instance.id, name: '  ' });
      expect(again.instanceSnapshot.name).not.toBe(op.instanceSnapshot.name);
      expect(again.instanceSnapshot.name.startsWith(`${f.instance.name}_VS_`)).toBe(true);
    });

    it.each<[{ withMemory?: boolean; quiesce?: boolean }, boolean]>([
      [{ withMemory: true }, false],
      [{ quiesce: true }, true],
    ])('takes a RUNNING instance with %o; quiesced is what the agent reports', async (options, quiesced) => {
      const f = await runningInstance();
      const op = await instanceSnapshots.create(principal, {
        instanceId: f.instance.id,
        name: 'before-upgrade',
        ...options,
      });
      expect(op.instanceSnapshot).toMatchObject({ name: 'before-upgrade', withMemory: options.withMemory ?? false });
      expect(sentFor(op.job.id)[0].envelope.payload).toMatchObject({
        withMemory: options.withMemory ?? false,
        quiesce: options.quiesce ?? false,
      });
      await refusedWith(instances.stop(principal, f.instance.id), ErrorCode.CONFLICT);
      await finish(
        op.job,
        ok<JobName.CREATE_INSTANCE_SNAPSHOT>({
          instanceSnapshotId: op.instanceSnapshot.id,
          alreadyExisted: false,
          quiesced,
        }),
      );
      expect(await findInstanceSnapshot(op.instanceSnapshot.id)).toMatchObject({
        state: SnapshotState.COMPLETED,
        quiesced,
      });
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
    });

    it('refuses withMemory with quiesce: BAD_USER_INPUT (a frozen guest would be saved frozen)', async () => {
      const f = await runningInstance();
      await refusedWith(
        instanceSnapshots.create(principal, { instanceId: f.instance.id, withMemory: true, quiesce: true }),
        ErrorCode.BAD_USER_INPUT,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });

    it('ends ERROR with the reason when the hypervisor refuses, the volumes READY again', async () => {
      const f = await runningInstance();
      const op = await instanceSnapshots.create(principal, { instanceId: f.instance.id, quiesce: true });
      await finish(op.job, refused<JobName.CREATE_INSTANCE_SNAPSHOT>('guest agent is not responding'));
      expect(await findInstanceSnapshot(op.instanceSnapshot.id)).toMatchObject({
        state: SnapshotState.ERROR,
        error: 'guest agent is not responding',
        completedAt: null,
      });
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect(await events(op.instanceSnapshot.id)).toEqual(['instance_snapshot.failed']);
    });

    it.each([
      [{ withMemory: true }, /withMemory needs a RUNNING instance/],
      [{ quiesce: true }, /quiesce needs a RUNNING instance/],
    ])('refuses %o on a STOPPED instance: PRECONDITION_FAILED', async (options, message) => {
      const f = await instanceIn(InstanceState.STOPPED);
      await refusedWith(
        instanceSnapshots.create(principal, { instanceId: f.instance.id, ...options }),
        ErrorCode.PRECONDITION_FAILED,
        message,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });

    it.each([
      [InstanceState.ERROR, ErrorCode.PRECONDITION_FAILED],
      [InstanceState.STARTING, ErrorCode.CONFLICT],
      [InstanceState.STOPPING, ErrorCode.CONFLICT],
      [InstanceState.CREATING, ErrorCode.CONFLICT],
    ])('refuses an instance %s: %s', async (state, code) => {
      const f = await instanceIn(state);
      await refusedWith(instanceSnapshots.create(principal, { instanceId: f.instance.id }), code);
      expect(await db.repos.instanceSnapshots.findByInstance(f.instance.id)).toEqual([]);
    });

    it.each([
      [VolumeState.SNAPSHOTTING, ErrorCode.CONFLICT],
      [VolumeState.ERROR, ErrorCode.PRECONDITION_FAILED],
    ])('refuses while a volume is %s: %s, moving no other volume', async (volumeState, code) => {
      const f = await instanceIn(InstanceState.STOPPED);
      await setVolume(f.volumes[1].id, volumeState);
      await refusedWith(instanceSnapshots.create(principal, { instanceId: f.instance.id }), code);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, volumeState]);
    });

    it("is NOT_FOUND for another organization's instance, and lists only the caller's instance snapshots", async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      await refusedWith(instanceSnapshots.create(stranger, { instanceId: f.instance.id }), ErrorCode.NOT_FOUND);
      const completed = await completedInstanceSnapshot(f);
      const mine = await instanceSnapshots.list(principal, { instanceId: f.instance.id }, {});
      expect(mine.items.map((p) => p.id)).toEqual([completed.id]);
      expect((await instanceSnapshots.list(stranger, { instanceId: f.instance.id }, {})).items).toEqual([]);
      await refusedWith(instanceSnapshots.revert(stranger, completed.id, false), ErrorCode.NOT_FOUND);
      await refusedWith(instanceSnapshots.delete(stranger, completed.id), ErrorCode.NOT_FOUND);
    });

    it('pages the list newest first with a cursor', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await completedInstanceSnapshot(f)).id);
      const first = await instanceSnapshots.list(principal, { instanceId: f.instance.id }, { first: 2 });
      expect(first.items.map((p) => p.id)).toEqual([made[2], made[1]]);
      expect(first.hasNextPage).toBe(true);
      expect(await first.totalCount()).toBe(3);
      const second = await instanceSnapshots.list(
        principal,
        { instanceId: f.instance.id },
        { first: 2, after: first.endCursor },
      );
      expect(second.items.map((p) => p.id)).toEqual([made[0]]);
      expect(second.hasNextPage).toBe(false);
    });
  });

  describe('revertToInstanceSnapshot', () => {
    it('reverts a STOPPED instance and runs it when asked: volumes REVERTING, then READY; instance RUNNING', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      const { instance, job } = await instanceSnapshots.revert(principal, completed.id, true);
      expect(instance.state).toBe(InstanceState.STOPPED);
      expect(sentFor(job.id)[0].envelope).toMatchObject({
        name: JobName.REVERT_INSTANCE_SNAPSHOT,
        payload: {
          instanceId: f.instance.id,
          volumeIds: completed.volumeIds,
          instanceSnapshotId: completed.id,
          startAfter: true,
        },
      });
      expect(await volumeStates(f)).toEqual([VolumeState.REVERTING, VolumeState.REVERTING]);
      await refusedWith(instances.start(principal, f.instance.id), ErrorCode.CONFLICT);
      await refusedWith(instanceSnapshots.delete(principal, completed.id), ErrorCode.CONFLICT, /REVERTING/);
      await finish(job, ok<JobName.REVERT_INSTANCE_SNAPSHOT>({ instanceSnapshotId: completed.id, running: true }));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect(await events(f.instance.id)).toEqual(['instance.reverted']);
      expect((await findInstanceSnapshot(completed.id))!.state).toBe(SnapshotState.COMPLETED);
    });

    it('leaves a RUNNING instance STOPPED when not asked to run it', async () => {
      const f = await runningInstance();
      const completed = await completedInstanceSnapshot(f, true);
      const { job } = await instanceSnapshots.revert(principal, completed.id, false);
      await finish(job, ok<JobName.REVERT_INSTANCE_SNAPSHOT>({ instanceSnapshotId: completed.id, running: false }));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.STOPPED);
    });

    it('keeps a RUNNING instance RUNNING when it runs after the revert: no RUNNING→RUNNING move, the job applied', async () => {
      const f = await runningInstance();
      const completed = await completedInstanceSnapshot(f, true);
      const { job } = await instanceSnapshots.revert(principal, completed.id, true);
      await finish(job, ok<JobName.REVERT_INSTANCE_SNAPSHOT>({ instanceSnapshotId: completed.id, running: true }));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
      // The close committed: a move the instance machine forbids would have rolled all of this back.
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect((await jobRow(job.id)).status).toBe(JobStatus.SUCCEEDED);
      expect(await events(f.instance.id)).toContain('instance.reverted');
    });

    it('refuses an instance snapshot without memory while the instance is RUNNING: PRECONDITION_FAILED, stop it first', async () => {
      const f = await runningInstance();
      const completed = await completedInstanceSnapshot(f);
      await refusedWith(
        instanceSnapshots.revert(principal, completed.id, true),
        ErrorCode.PRECONDITION_FAILED,
        /has no memory/,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });

    it('keeps the instance as it was when the revert fails, the volumes READY', async () => {
      const f = await runningInstance();
      const completed = await completedInstanceSnapshot(f, true);
      const { job } = await instanceSnapshots.revert(principal, completed.id, false);
      await finish(job, refused<JobName.REVERT_INSTANCE_SNAPSHOT>('snapshot-revert: unsupported configuration'));
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
      expect(await events(f.instance.id)).toContain('instance.revert_failed');
    });

    it('refuses an instance snapshot that is not COMPLETED: CONFLICT', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const op = await instanceSnapshots.create(principal, { instanceId: f.instance.id });
      await refusedWith(
        instanceSnapshots.revert(principal, op.instanceSnapshot.id, false),
        ErrorCode.CONFLICT,
        /IN_PROGRESS/,
      );
      await finish(op.job, refused<JobName.CREATE_INSTANCE_SNAPSHOT>('disk full'));
      await refusedWith(
        instanceSnapshots.revert(principal, op.instanceSnapshot.id, false),
        ErrorCode.CONFLICT,
        /ERROR/,
      );
    });

    it.each([
      [InstanceState.ERROR, ErrorCode.PRECONDITION_FAILED],
      [InstanceState.STARTING, ErrorCode.CONFLICT],
      [InstanceState.STOPPING, ErrorCode.CONFLICT],
    ])('refuses while the instance is %s: %s', async (state, code) => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      await db.dataSource.query('UPDATE instances SET state = $1 WHERE id = $2', [state, f.instance.id]);
      await refusedWith(instanceSnapshots.revert(principal, completed.id, false), code);
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });

    it('refuses (PRECONDITION_FAILED) when a disk was attached after the instance snapshot: it holds no state of it', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      await db.repos.volumes.createMany([
        {
          organizationId: principal.organizationId,
          environmentId,
          instanceId: f.instance.id,
          hostId: f.host.id,
          name: 'DATA-2',
          type: VolumeType.DATADISK,
          state: VolumeState.READY,
          sizeGiB: 1,
        },
      ]);
      await refusedWith(
        instanceSnapshots.revert(principal, completed.id, false),
        ErrorCode.PRECONDITION_FAILED,
        /DATA-2/,
      );
      expect(await volumeStates(f)).toEqual([VolumeState.READY, VolumeState.READY]);
    });
  });

  describe('deleteInstanceSnapshot', () => {
    it('answers DESTROYING and removes the row once the hypervisor confirms', async () => {
      const f = await runningInstance();
      const completed = await completedInstanceSnapshot(f);
      const { instanceSnapshot, job } = await instanceSnapshots.delete(principal, completed.id);
      expect(instanceSnapshot).toMatchObject({ id: completed.id, state: SnapshotState.DESTROYING, lastJobId: job.id });
      expect(sentFor(job.id)[0].envelope).toMatchObject({
        name: JobName.DELETE_INSTANCE_SNAPSHOT,
        payload: { instanceId: f.instance.id, volumeIds: completed.volumeIds, instanceSnapshotId: completed.id },
      });
      await refusedWith(instanceSnapshots.delete(principal, completed.id), ErrorCode.CONFLICT, /being deleted/);
      await refusedWith(instanceSnapshots.revert(principal, completed.id, false), ErrorCode.CONFLICT, /DESTROYING/);
      await finish(job, ok<JobName.DELETE_INSTANCE_SNAPSHOT>({ instanceSnapshotId: completed.id, alreadyGone: false }));
      expect(await findInstanceSnapshot(completed.id)).toBeNull();
      expect(await events(completed.id)).toEqual(['instance_snapshot.deleted', 'instance_snapshot.completed']);
    });

    it('returns a refused delete to COMPLETED, with the failure recorded; an ERROR one to ERROR', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      const del = await instanceSnapshots.delete(principal, completed.id);
      await finish(del.job, refused<JobName.DELETE_INSTANCE_SNAPSHOT>('snapshot is in use'));
      expect(await findInstanceSnapshot(completed.id)).toMatchObject({
        state: SnapshotState.COMPLETED,
        error: 'Delete failed: snapshot is in use',
      });

      const failed = await instanceSnapshots.create(principal, { instanceId: f.instance.id });
      await finish(failed.job, refused<JobName.CREATE_INSTANCE_SNAPSHOT>('disk full'));
      const again = await instanceSnapshots.delete(principal, failed.instanceSnapshot.id);
      await finish(again.job, refused<JobName.DELETE_INSTANCE_SNAPSHOT>('virsh: timeout'));
      expect((await findInstanceSnapshot(failed.instanceSnapshot.id))!.state).toBe(SnapshotState.ERROR);
    });
  });

  describe('destroyInstance', () => {
    it('refuses a RUNNING instance: PRECONDITION_FAILED, stop it first', async () => {
      const f = await runningInstance();
      await refusedWith(instances.destroy(principal, f.instance.id, true), ErrorCode.PRECONDITION_FAILED, /stop it/);
      expect(await instanceState(f.instance.id)).toBe(InstanceState.RUNNING);
    });

    it('refuses while instance snapshots exist, unless expungeSnapshots; then they go with the instance', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      await refusedWith(
        instances.destroy(principal, f.instance.id, false),
        ErrorCode.PRECONDITION_FAILED,
        /1 recovery point/,
      );
      const { job } = await instances.destroy(principal, f.instance.id, true);
      // The instance is named so that a libvirt agent undefines its domain too.
      expect(sentFor(job.id)[0].envelope).toMatchObject({
        name: JobName.DESTROY_VOLUMES,
        payload: { volumeIds: f.volumes.map((v) => v.id), instanceId: f.instance.id },
      });
      expect((await findInstanceSnapshot(completed.id))!.state).toBe(SnapshotState.DESTROYING);
      await finish(job, ok<JobName.DESTROY_VOLUMES>({ destroyed: f.volumes.map((v) => v.id) }));
      expect(await findInstanceSnapshot(completed.id)).toBeNull();
      expect(await instanceState(f.instance.id)).toBeUndefined();
    });

    it('a list read before the destroy commits still answers each recovery point with its instance', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      const ctx = new GraphQLContext({ headers: {} }, undefined, 'race', db);
      ctx.principal = principal;
      const resolver = new InstanceSnapshotsResolver(instanceSnapshots);
      const page = await resolver.instanceSnapshots(principal, {}, ctx, { instanceId: f.instance.id });
      // The destroy commits between the list and its nested field (the limits mix met it as a crash on null).
      const { job } = await instances.destroy(principal, f.instance.id, true);
      await finish(job, ok<JobName.DESTROY_VOLUMES>({ destroyed: f.volumes.map((v) => v.id) }));
      expect(await instanceState(f.instance.id)).toBeUndefined();
      const [point] = page.edges.map((e) => e.node);
      expect(point.id).toBe(completed.id);
      expect((await resolver.instance(point, ctx)).id).toBe(f.instance.id);
      // Read afresh, the instance is gone: NOT_FOUND with its code, not an internal error.
      const later = new GraphQLContext({ headers: {} }, undefined, 'later', db);
      later.principal = principal;
      await refusedWith(resolver.instance(point, later), ErrorCode.NOT_FOUND);
    });

    it('returns the instance snapshots to COMPLETED when the destroy fails', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      const { job } = await instances.destroy(principal, f.instance.id, true);
      await finish(job, refused<JobName.DESTROY_VOLUMES>('permission denied'));
      expect((await findInstanceSnapshot(completed.id))!.state).toBe(SnapshotState.COMPLETED);
      expect(await instanceState(f.instance.id)).toBe(InstanceState.ERROR);
    });

    it('refuses (CONFLICT) while an instance snapshot is being deleted', async () => {
      const f = await instanceIn(InstanceState.STOPPED);
      const completed = await completedInstanceSnapshot(f);
      await instanceSnapshots.delete(principal, completed.id);
      await refusedWith(instances.destroy(principal, f.instance.id, true), ErrorCode.CONFLICT, /recovery point/);
    });
  });
});
