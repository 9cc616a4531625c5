import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import { ErrorCode, InstanceState, Role, SnapshotState, VolumeState, VolumeType } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, type Database } from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { VolumesService } from './volumes.service.js';

/**
 * Revert runs only on a stopped instance: reverting a disk under a running guest corrupts it. The running
 * states are set in the database here and the service must refuse them, changing nothing;
 * instances/instance-lifecycle.int-spec.ts reaches RUNNING through startInstance and checks the same refusal.
 */
describe('revertVolumeToSnapshot preconditions', () => {
  let db: Database;
  let close: () => Promise<void>;
  let principal: Principal;
  let service: VolumesService;
  let dispatcher: RecordingDispatcher;

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    ({ db, close } = await openTestDatabase());
    const config = loadApiConfig({});
    dispatcher = new RecordingDispatcher();
    service = new VolumesService(db, new JobLauncher(db, dispatcher, config), new ProvisioningService(config));
    const organization = await db.repos.organizations.create('revert');
    const user = await db.repos.users.create(organization.id, 'member@revert.test', Role.MEMBER);
    principal = { userId: user.id, email: user.email, organizationId: organization.id, role: Role.MEMBER };
  });
  afterAll(() => close?.());

  async function snapshotOfInstanceIn(state: InstanceState) {
    const environment = await db.repos.environments.create(principal.organizationId, `env-${state.toLowerCase()}`);
    const host = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-r',
      driver: 'qemu-img',
      agentVersion: 't',
      at: new Date(),
    });
    const instance = await db.repos.instances.create({
      organizationId: principal.organizationId,
      environmentId: environment.id,
      hostId: host.id,
      name: `vm-${state.toLowerCase()}`,
      state,
    });
    const [volume] = await db.repos.volumes.createMany([
      {
        organizationId: principal.organizationId,
        environmentId: environment.id,
        instanceId: instance.id,
        hostId: host.id,
        name: 'ROOT',
        type: VolumeType.ROOT,
        state: VolumeState.READY,
        sizeGiB: 1,
      },
    ]);
    const snapshot = await db.repos.snapshots.create({
      organizationId: principal.organizationId,
      environmentId: environment.id,
      volumeId: volume.id,
      instanceId: instance.id,
      name: 'before',
      description: null,
      state: SnapshotState.COMPLETED,
      lastJobId: null,
    });
    return { volume, snapshot };
  }

  it.each([InstanceState.RUNNING, InstanceState.STARTING, InstanceState.STOPPING])(
    'refuses while the instance is %s (PRECONDITION_FAILED) and changes nothing',
    async (state) => {
      const { volume, snapshot } = await snapshotOfInstanceIn(state);
      await expect(service.revert(principal, snapshot.id)).rejects.toMatchObject({
        code: ErrorCode.PRECONDITION_FAILED,
      });
      expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, volume.id))!.state).toBe(VolumeState.READY);
      expect(dispatcher.sent).toEqual([]);
    },
  );

  it('goes ahead on a STOPPED instance: the volume is REVERTING and one job is sent', async () => {
    const { volume, snapshot } = await snapshotOfInstanceIn(InstanceState.STOPPED);
    const { volume: reverting, job } = await service.revert(principal, snapshot.id);
    expect(reverting.state).toBe(VolumeState.REVERTING);
    expect(job.attempt).toBe(1);
    expect(dispatcher.sent.map((s) => s.envelope.jobId)).toEqual([job.id]);
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, volume.id))!.state).toBe(VolumeState.REVERTING);
  });
});
