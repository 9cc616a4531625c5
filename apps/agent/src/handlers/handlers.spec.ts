import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { JobFailureReason, JobName } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { DriverError, VolumeDriver } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';
import { DeleteTemplateHandler } from './delete-template.handler.js';
import { DestroyVolumesHandler } from './destroy-volumes.handler.js';
import { ExportSnapshotHandler } from './export-snapshot.handler.js';
import { ImportTemplateHandler } from './import-template.handler.js';
import { RevertSnapshotHandler } from './revert-snapshot.handler.js';

const containing = (text: string): unknown => expect.stringContaining(text);
const noDelay = () => Promise.resolve();
const slots = () => new SnapshotSlots(2);
const instant = () => new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: noDelay });

describe('job handlers (on the simulator driver)', () => {
  it('declare the job name they handle', () => {
    const driver = instant();
    expect(new CreateVolumesHandler(driver).jobName).toBe(JobName.CREATE_VOLUMES);
    expect(new CreateSnapshotHandler(driver, slots()).jobName).toBe(JobName.CREATE_SNAPSHOT);
    expect(new DeleteSnapshotHandler(driver, slots()).jobName).toBe(JobName.DELETE_SNAPSHOT);
    expect(new RevertSnapshotHandler(driver).jobName).toBe(JobName.REVERT_SNAPSHOT);
    expect(new ExportSnapshotHandler(driver).jobName).toBe(JobName.EXPORT_SNAPSHOT);
    expect(new ImportTemplateHandler(driver).jobName).toBe(JobName.IMPORT_TEMPLATE);
    expect(new DeleteTemplateHandler(driver).jobName).toBe(JobName.DELETE_TEMPLATE);
    expect(new DestroyVolumesHandler(new AgentDrivers(driver, driver)).jobName).toBe(JobName.DESTROY_VOLUMES);
  });

  it('create volumes idempotently, reporting every volume of the job as created', async () => {
    const driver = instant();
    const handler = new CreateVolumesHandler(driver);
    const volumes = [
      { volumeId: randomUUID(), sizeGiB: 10 },
      { volumeId: randomUUID(), sizeGiB: 20 },
    ];
    const ids = volumes.map((v) => v.volumeId);
    expect(await handler.handle({ volumes })).toEqual({
      ok: true,
      data: { created: ids },
      message: 'Created 2 volume(s)',
    });
    expect(await handler.handle({ volumes })).toEqual({
      ok: true,
      data: { created: ids },
      message: 'Created 0 volume(s); 2 already existed',
    });
  });

  it('report a bad volume list or a driver refusal as a failed outcome, not an exception', async () => {
    const handler = new CreateVolumesHandler(instant());
    expect(await handler.handle({ volumes: [] })).toEqual({
      ok: false,
      message: 'Invalid payload: volumes must be a non-empty list',
    });
    const good = { volumeId: randomUUID(), sizeGiB: 1 };
    expect(await handler.handle({ volumes: [good, { volumeId: 'nope', sizeGiB: 1 }] })).toEqual({
      ok: false,
      message: 'Invalid volume id "nope": expected a UUID (1 of 2 created before)',
      retryable: false,
    });
  });

  it('take and delete a snapshot, twice each, with the effect of once', async () => {
    const driver = instant();
    const volumeId = randomUUID();
    const snapshotId = randomUUID();
    await driver.createVolume(volumeId, 1);
    const create = new CreateSnapshotHandler(driver, slots());
    const remove = new DeleteSnapshotHandler(driver, slots());

    expect(await create.handle({ volumeId, snapshotId })).toMatchObject({
      ok: true,
      data: { snapshotId, alreadyExisted: false, sizeBytes: null },
    });
    expect(await create.handle({ volumeId, snapshotId })).toMatchObject({
      ok: true,
      data: { snapshotId, alreadyExisted: true },
    });
    expect(await driver.listSnapshots(volumeId)).toHaveLength(1);

    expect(await remove.handle({ volumeId, snapshotId })).toMatchObject({
      ok: true,
      data: { snapshotId, alreadyGone: false },
    });
    expect(await remove.handle({ volumeId, snapshotId })).toMatchObject({
      ok: true,
      data: { snapshotId, alreadyGone: true },
    });
    expect(await driver.listSnapshots(volumeId)).toEqual([]);
  });

  it('pass a retryable driver failure on as retryable', async () => {
    const failing = new SimulatorDriver({ latencyMs: 0, failureRate: 1, delay: noDelay });
    const outcome = await new CreateSnapshotHandler(failing, slots()).handle({
      volumeId: randomUUID(),
      snapshotId: randomUUID(),
    });
    expect(outcome).toMatchObject({ ok: false, retryable: true, message: containing('Simulated failure') });
  });

  it('let an unexpected exception through to the job runner, which reports it', async () => {
    class BrokenDriver extends SimulatorDriver {
      override createSnapshot(): Promise<never> {
        return Promise.reject(new TypeError('bug'));
      }
    }
    const driver: VolumeDriver = new BrokenDriver({ latencyMs: 0, failureRate: 0 });
    await expect(
      new CreateSnapshotHandler(driver, slots()).handle({ volumeId: randomUUID(), snapshotId: randomUUID() }),
    ).rejects.toThrow('bug');
  });

  describe('copies, reverts, templates and destroy', () => {
    /** A volume with a snapshot, on a fresh simulator. */
    async function volumeWithSnapshot(sizeGiB = 1) {
      const driver = instant();
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, sizeGiB);
      const atSnapshot = driver.simulateWrite(volumeId);
      await driver.createSnapshot(volumeId, snapshotId);
      driver.simulateWrite(volumeId);
      return { driver, volumeId, snapshotId, atSnapshot };
    }

    it('revert a volume to a snapshot, twice with the effect of once, and fail clearly for a missing one', async () => {
      const { driver, volumeId, snapshotId, atSnapshot } = await volumeWithSnapshot();
      const handler = new RevertSnapshotHandler(driver);
      const ok = { ok: true, data: { snapshotId }, message: 'Volume reverted to the snapshot' };
      expect(await handler.handle({ volumeId, snapshotId })).toEqual(ok);
      expect(await handler.handle({ volumeId, snapshotId })).toEqual(ok);
      expect(driver.volumeGeneration(volumeId)).toBe(atSnapshot);
      const missing = randomUUID();
      expect(await handler.handle({ volumeId, snapshotId: missing })).toEqual({
        ok: false,
        message: `Could not revert volume ${volumeId} to snapshot ${missing}: snapshot ${missing} is missing from volume ${volumeId} on disk`,
        retryable: false,
        reason: JobFailureReason.SNAPSHOT_MISSING,
      });
    });

    it('export a snapshot and report its destination and virtual size, the second time too', async () => {
      const { driver, volumeId, snapshotId } = await volumeWithSnapshot(3);
      const handler = new ExportSnapshotHandler(driver);
      const destination = `transfers/${randomUUID()}.qcow2`;
      expect(await handler.handle({ volumeId, snapshotId, destination })).toEqual({
        ok: true,
        data: { destination, virtualSizeBytes: 3 * 1024 ** 3 },
        message: `Exported to ${destination}`,
      });
      expect(await handler.handle({ volumeId, snapshotId, destination })).toMatchObject({
        ok: true,
        data: { destination, virtualSizeBytes: 3 * 1024 ** 3 },
        message: `${destination} was already in secondary storage`,
      });
      expect(await handler.handle({ volumeId, snapshotId, destination: '/tmp/x' })).toMatchObject({
        ok: false,
        message: containing('Invalid destination "/tmp/x"'),
      });
    });

    it('make volumes from a transfer and a snapshot, removing the transfer once all exist', async () => {
      const { driver, volumeId: sourceId, snapshotId, atSnapshot } = await volumeWithSnapshot();
      const transfer = `transfers/${randomUUID()}.qcow2`;
      await driver.exportSnapshot(sourceId, snapshotId, transfer);
      const handler = new CreateVolumesHandler(driver);
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const fromTransfer = { kind: 'secondary' as const, path: transfer, removeAfter: true };
      const volumes = [
        { volumeId: a, sizeGiB: 2, source: fromTransfer },
        // Two volumes from one transfer file: it must still be there for the second.
        { volumeId: b, sizeGiB: 1, source: fromTransfer },
        { volumeId: c, sizeGiB: 1, source: { kind: 'snapshot' as const, volumeId: sourceId, snapshotId } },
      ];
      expect(await handler.handle({ volumes })).toEqual({
        ok: true,
        data: { created: [a, b, c] },
        message: `Created 3 volume(s); removed ${transfer}`,
      });
      for (const id of [a, b, c]) expect(driver.volumeGeneration(id)).toBe(atSnapshot);
      expect(driver.secondaryFile(transfer)).toBeUndefined();
      expect(await handler.handle({ volumes })).toEqual({
        ok: true,
        data: { created: [a, b, c] },
        message: `Created 0 volume(s); 3 already existed; ${transfer} was already removed`,
      });
    });

    it('keep the transfer file when a volume fails, so that a redelivery can finish the job', async () => {
      const { driver, volumeId: sourceId, snapshotId } = await volumeWithSnapshot(2);
      const transfer = `transfers/${randomUUID()}.qcow2`;
      await driver.exportSnapshot(sourceId, snapshotId, transfer);
      const handler = new CreateVolumesHandler(driver);
      const good = randomUUID();
      const outcome = await handler.handle({
        volumes: [
          { volumeId: good, sizeGiB: 2, source: { kind: 'secondary', path: transfer, removeAfter: true } },
          { volumeId: randomUUID(), sizeGiB: 1, source: { kind: 'secondary', path: transfer, removeAfter: true } },
        ],
      });
      expect(outcome).toMatchObject({
        ok: false,
        message: containing("smaller than the source's 2 GiB; ask for at least 2 GiB (1 of 2 created before)"),
      });
      expect(driver.secondaryFile(transfer)).toBeDefined();
    });

    it('still succeed when the transfer cannot be removed afterwards, saying so', async () => {
      const { driver, volumeId: sourceId, snapshotId } = await volumeWithSnapshot();
      const transfer = `transfers/${randomUUID()}.qcow2`;
      await driver.exportSnapshot(sourceId, snapshotId, transfer);
      driver.removeTransfer = () => Promise.reject(new DriverError('secondary storage is mounted read-only'));
      const volumeId = randomUUID();
      expect(
        await new CreateVolumesHandler(driver).handle({
          volumes: [{ volumeId, sizeGiB: 1, source: { kind: 'secondary', path: transfer, removeAfter: true } }],
        }),
      ).toEqual({
        ok: true,
        data: { created: [volumeId] },
        message: `Created 1 volume(s); could not remove ${transfer} afterwards: secondary storage is mounted read-only`,
      });
    });

    it('import a template from a file in secondary storage, and delete it twice', async () => {
      const driver = instant();
      driver.putSecondaryFile('uploads/debian.qcow2', 2 * 1024 ** 3);
      const templateId = randomUUID();
      const importer = new ImportTemplateHandler(driver);
      expect(await importer.handle({ templateId, path: 'uploads/debian.qcow2' })).toEqual({
        ok: true,
        data: { templateId, virtualSizeBytes: 2 * 1024 ** 3 },
        message: 'Template image checked and copied',
      });
      expect(await importer.handle({ templateId, path: 'uploads/debian.qcow2' })).toMatchObject({
        ok: true,
        message: 'The template image was already in place',
      });
      expect(await importer.handle({ templateId: randomUUID(), path: '../etc/shadow' })).toMatchObject({
        ok: false,
        message: containing('".." segment'),
      });

      const remover = new DeleteTemplateHandler(driver);
      expect(await remover.handle({ templateId })).toEqual({
        ok: true,
        data: { templateId, alreadyGone: false },
        message: 'Template image deleted',
      });
      expect(await remover.handle({ templateId })).toEqual({
        ok: true,
        data: { templateId, alreadyGone: true },
        message: 'The template image was already gone',
      });
    });

    it('destroy volumes twice with the effect of once, and check every id before removing any', async () => {
      const driver = instant();
      const [a, b] = [randomUUID(), randomUUID()];
      await driver.createVolume(a, 1);
      await driver.createVolume(b, 1);
      const handler = new DestroyVolumesHandler(new AgentDrivers(driver, driver));

      expect(await handler.handle({ volumeIds: [a, 'nope'] })).toEqual({
        ok: false,
        message: 'Invalid volume id "nope": expected a UUID',
        retryable: false,
      });
      await expect(driver.volumeExists(a)).resolves.toBe(true);
      expect(await handler.handle({ volumeIds: [] })).toMatchObject({ ok: false, message: containing('non-empty') });

      expect(await handler.handle({ volumeIds: [a, b] })).toEqual({
        ok: true,
        data: { destroyed: [a, b] },
        message: 'Destroyed 2 volume(s)',
      });
      expect(await handler.handle({ volumeIds: [a, b] })).toEqual({
        ok: true,
        data: { destroyed: [a, b] },
        message: 'Destroyed 0 volume(s); 2 already gone',
      });
    });

    it('destroy volumes of a named instance: the driver forgets the instance first, and a refusal removes nothing', async () => {
      const driver = instant();
      const [a, instanceId] = [randomUUID(), randomUUID()];
      await driver.createVolume(a, 1);
      const calls: string[] = [];
      const forget = jest.spyOn(driver, 'forgetInstance').mockImplementationOnce((id) => {
        calls.push(`forget ${id}`);
        return Promise.reject(new DriverError(`Could not destroy instance ${id}: it is running`));
      });
      const destroy = jest.spyOn(driver, 'destroyVolume');
      const handler = new DestroyVolumesHandler(new AgentDrivers(driver, driver));

      expect(await handler.handle({ volumeIds: [a], instanceId: 'nope' })).toMatchObject({
        ok: false,
        message: 'Invalid instance id "nope": expected a UUID',
      });
      expect(forget).not.toHaveBeenCalled();
      expect(await handler.handle({ volumeIds: [a], instanceId })).toMatchObject({
        ok: false,
        message: containing('it is running'),
      });
      expect(calls).toEqual([`forget ${instanceId}`]);
      expect(destroy).not.toHaveBeenCalled();
      await expect(driver.volumeExists(a)).resolves.toBe(true);

      // The simulator keeps nothing of instances: forgetting is a no-op, then the volumes go.
      expect(await handler.handle({ volumeIds: [a], instanceId: instanceId.toUpperCase() })).toEqual({
        ok: true,
        data: { destroyed: [a] },
        message: 'Destroyed 1 volume(s)',
      });
      expect(forget).toHaveBeenLastCalledWith(instanceId);
      await expect(driver.forgetInstance(instanceId)).resolves.toEqual({ alreadyGone: true });
    });
  });
});
