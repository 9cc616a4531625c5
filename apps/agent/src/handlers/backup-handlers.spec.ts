import { randomUUID } from 'node:crypto';
import { backupFolder, type CreateBackupPayload, JobName } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { CreateBackupHandler } from './create-backup.handler.js';
import { DeleteBackupHandler } from './delete-backup.handler.js';
import { HandlerRegistry } from './handler-registry.js';
import { createHandlers } from './index.js';
import { RestoreBackupHandler } from './restore-backup.handler.js';

const noDelay = () => Promise.resolve();
const instant = () => new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: noDelay });

async function setUp() {
  const driver = instant();
  const organizationId = randomUUID();
  const instance = { instanceId: randomUUID(), volumeIds: [randomUUID(), randomUUID()] };
  for (const id of instance.volumeIds) await driver.createVolume(id, 1);
  const backupId = randomUUID();
  const payload: CreateBackupPayload = {
    backupId,
    storage: { root: 'secondary', path: 'backups' },
    folder: backupFolder(organizationId, backupId),
    organizationId,
    instanceId: instance.instanceId,
    instanceName: 'web-1',
    mode: 'SUSPEND',
    compression: 'ZSTD',
    quiesce: false,
    volumes: instance.volumeIds.map((volumeId, i) => ({
      volumeId,
      name: i === 0 ? 'ROOT-1' : 'DATA-1',
      type: i === 0 ? ('ROOT' as const) : ('DATADISK' as const),
      sizeGiB: 1,
    })),
    probeTimeoutSeconds: 10,
  };
  const location = { backupId, storage: payload.storage, folder: payload.folder };
  return {
    driver,
    instance,
    payload,
    location,
    create: new CreateBackupHandler(driver),
    restore: new RestoreBackupHandler(driver),
    remove: new DeleteBackupHandler(driver),
  };
}

describe('backup job handlers (on the simulator driver)', () => {
  it('cover the three backup job names, so the registry accepts them', () => {
    const driver = instant();
    const registry = new HandlerRegistry(createHandlers(new AgentDrivers(driver, driver), new SnapshotSlots(1)));
    for (const name of [JobName.CREATE_BACKUP, JobName.RESTORE_BACKUP, JobName.DELETE_BACKUP]) {
      expect(registry.jobNames).toContain(name);
    }
  });

  it('back up a running instance, leave it running, answer a repeat with alreadyExisted, restore and delete', async () => {
    const { driver, instance, payload, location, create, restore, remove } = await setUp();
    await driver.startInstance(instance);
    const first = await create.handle(payload);
    expect(first).toMatchObject({
      ok: true,
      data: { backupId: payload.backupId, alreadyExisted: false, guestPausedMs: 0, instanceRunning: true },
      message: 'Backed up 2 volume(s), 0 bytes, guest paused 0 ms',
    });
    if (!first.ok) throw new Error(first.message);
    expect(first.data.manifest).toMatchObject({ instanceWasRunning: true, mode: 'SUSPEND', parentBackupId: null });
    expect(driver.instanceRunning(instance.instanceId)).toBe(true);
    expect(await create.handle(payload)).toMatchObject({
      ok: true,
      data: { alreadyExisted: true, manifest: first.data.manifest },
      message: 'The backup was already complete',
    });

    // The data the backup holds comes back into a new volume, and over the stopped instance's own.
    const backedUp = driver.volumeGeneration(instance.volumeIds[0]);
    driver.simulateWrite(instance.volumeIds[0]);
    const target = randomUUID();
    const sourceVolumeId = instance.volumeIds[0] as string;
    const into = { chain: [location], instanceId: randomUUID(), probeTimeoutSeconds: 10 };
    expect(
      await restore.handle({ ...into, targets: [{ sourceVolumeId, volumeId: target, sizeGiB: 2 }], overwrite: false }),
    ).toEqual({
      ok: true,
      data: { restored: [target], verifiedFiles: 1 },
      message: 'Restored 1 volume(s); 1 backup file(s) verified first',
    });
    expect(driver.volumeGeneration(target)).toBe(backedUp);
    const over = { ...into, targets: [{ sourceVolumeId, volumeId: sourceVolumeId, sizeGiB: 1 }], overwrite: true };
    expect(await restore.handle(over)).toMatchObject({
      ok: false,
      message: expect.stringContaining(`is a disk of running instance ${instance.instanceId}`) as unknown,
    });
    await driver.stopInstance(instance, 0);
    expect(await restore.handle(over)).toMatchObject({
      ok: true,
      message: expect.stringContaining('in place') as unknown,
    });
    expect(driver.volumeGeneration(sourceVolumeId)).toBe(backedUp);

    const request = { ...location, probeTimeoutSeconds: 10 };
    expect(await remove.handle(request)).toEqual({ ok: true, data: { alreadyGone: false }, message: 'Backup deleted' });
    expect(await remove.handle(request)).toEqual({
      ok: true,
      data: { alreadyGone: true },
      message: 'The backup was already gone',
    });
  });

  it('refuse a payload that leaves its folder, names a bad mode, or has no volume, as a failed outcome', async () => {
    const { payload, create, remove } = await setUp();
    expect(await create.handle({ ...payload, folder: `${payload.organizationId}/../x` })).toMatchObject({
      ok: false,
      message: expect.stringContaining('".." segment') as unknown,
    });
    expect(await create.handle({ ...payload, folder: `${randomUUID()}/${payload.backupId}` })).toMatchObject({
      ok: false,
      message: 'Invalid payload: the folder of backup ' + payload.backupId + " is not its organization's",
    });
    expect(await create.handle({ ...payload, mode: 'LIVE' as never })).toMatchObject({
      ok: false,
      message: 'Invalid payload: mode must be one of SNAPSHOT, SUSPEND, STOP',
    });
    expect(await create.handle({ ...payload, volumes: [] })).toMatchObject({ ok: false });
    expect(await create.handle({ ...payload, probeTimeoutSeconds: 60_000 })).toMatchObject({
      ok: false,
      message: expect.stringContaining('probeTimeoutSeconds') as unknown,
    });
    for (const stopTimeoutSeconds of [0, 1.5, 3601, '60' as never]) {
      expect(await create.handle({ ...payload, stopTimeoutSeconds })).toMatchObject({
        ok: false,
        message: 'Invalid payload: stopTimeoutSeconds must be a whole number of seconds from 1 to 3600',
      });
    }
    expect(
      await remove.handle({
        backupId: payload.backupId,
        storage: { root: 'absolute', path: '/srv/../etc' },
        folder: payload.folder,
        probeTimeoutSeconds: 10,
      }),
    ).toMatchObject({ ok: false, message: expect.stringContaining('".." segment') as unknown });
  });

  it('fail a quiesced SNAPSHOT backup clearly when the guest agent does not answer, writing nothing', async () => {
    const { driver, instance, payload, location, create } = await setUp();
    await driver.startInstance(instance);
    driver.setGuestAgent(instance.instanceId, false);
    expect(await create.handle({ ...payload, mode: 'SNAPSHOT', quiesce: true })).toMatchObject({
      ok: false,
      message: expect.stringContaining('guest agent') as unknown,
    });
    expect(driver.backupManifest(location)).toBeUndefined();
    expect(driver.instanceRunning(instance.instanceId)).toBe(true);
  });
});
