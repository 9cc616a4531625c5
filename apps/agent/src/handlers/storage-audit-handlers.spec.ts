import { randomUUID } from 'node:crypto';
import { JobFailureReason, JobName, templatePath } from '@snapdeck/contracts';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { DriverError } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';
import { ExportSnapshotHandler } from './export-snapshot.handler.js';
import { InventoryHandler } from './inventory.handler.js';
import { driverFailure } from './outcomes.js';
import { RepairStorageHandler } from './repair-storage.handler.js';

const noDelay = () => Promise.resolve();
const instant = (now = () => new Date('2026-12-01T20:00:00.000Z')) =>
  new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: noDelay, now });
const slots = () => new SnapshotSlots(2);
const GIB = 1024 ** 3;

describe('storage audit handlers (on the simulator driver)', () => {
  it('declare the job names they handle', () => {
    const driver = instant();
    expect(new InventoryHandler(driver).jobName).toBe(JobName.INVENTORY);
    expect(new RepairStorageHandler(driver, slots()).jobName).toBe(JobName.REPAIR_STORAGE);
  });

  describe('INVENTORY', () => {
    it('lists volumes with their tags (stray ones too), templates and transfers, checks skipped, paths relative', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      const stray = randomUUID();
      const templateId = randomUUID();
      await driver.createVolume(volumeId, 2);
      await driver.createSnapshot(volumeId, snapshotId);
      driver.simulateStrayTag(volumeId, stray);
      await driver.exportSnapshot(volumeId, snapshotId, templatePath(templateId));
      await driver.exportSnapshot(volumeId, snapshotId, 'transfers/job-1.qcow2');
      driver.putSecondaryFile('incoming/operator.qcow2', GIB);

      const outcome = await new InventoryHandler(driver).handle({ checkTimeoutSeconds: 30 });

      if (!outcome.ok) throw new Error(outcome.message);
      expect(outcome.message).toBe('Listed 3 image(s) with 2 snapshot tag(s); 0 not clean');
      const at = '2026-12-01T20:00:00.000Z';
      const skipped = { status: 'skipped', message: 'simulator driver: no image to check' };
      expect(outcome.data).toEqual({
        takenAt: at,
        images: [
          {
            kind: 'volume',
            id: volumeId,
            path: `volumes/${volumeId}.qcow2`,
            sizeBytes: 0,
            virtualSizeBytes: 2 * GIB,
            modifiedAt: at,
            inUse: false,
            tags: [
              { tag: snapshotId, createdAt: at, vmStateBytes: 0 },
              { tag: stray, createdAt: at, vmStateBytes: 0 },
            ],
            check: skipped,
          },
          expect.objectContaining({ kind: 'template', id: templateId, path: templatePath(templateId), tags: [] }),
          expect.objectContaining({ kind: 'transfer', id: 'job-1', path: 'transfers/job-1.qcow2', check: skipped }),
        ],
      });
    });

    it('reports a tag lost behind its back as gone, and a check a test set', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, snapshotId);
      driver.simulateLostTag(volumeId, snapshotId);
      driver.simulateImageCheck(volumeId, { status: 'leaks', leakedClusters: 3 });
      const outcome = await new InventoryHandler(driver).handle({ checkTimeoutSeconds: 1 });
      expect(outcome).toMatchObject({
        ok: true,
        data: { images: [{ id: volumeId, tags: [], check: { status: 'leaks', leakedClusters: 3 } }] },
        message: 'Listed 1 image(s) with 0 snapshot tag(s); 1 not clean',
      });
    });

    it('refuses a check bound that is not a positive number of seconds up to an hour', async () => {
      const handler = new InventoryHandler(instant());
      for (const checkTimeoutSeconds of [0, -1, Number.NaN, 3601, '30' as unknown as number]) {
        expect(await handler.handle({ checkTimeoutSeconds })).toEqual({
          ok: false,
          message: 'Invalid payload: checkTimeoutSeconds must be a number of seconds above 0 and at most 3600',
        });
      }
    });
  });

  describe('REPAIR_STORAGE', () => {
    it('removes every target with the delete operations, counts already gone as removed, twice the same', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      const orphanVolume = randomUUID();
      const tag = randomUUID();
      const templateId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createVolume(orphanVolume, 1);
      driver.simulateStrayTag(volumeId, tag);
      driver.putSecondaryFile(templatePath(templateId), GIB);
      driver.putSecondaryFile('transfers/t.qcow2', GIB);
      const handler = new RepairStorageHandler(driver, slots());
      const payload = {
        tags: [{ volumeId, tag }],
        volumeIds: [orphanVolume],
        templateIds: [templateId],
        transferPaths: ['transfers/t.qcow2'],
      };
      const removed = [
        `tag:${volumeId}/${tag}`,
        `volume:${orphanVolume}`,
        `template:${templateId}`,
        'transfer:transfers/t.qcow2',
      ];

      expect(await handler.handle(payload)).toEqual({
        ok: true,
        data: { removed, failed: [] },
        message: 'Removed 4 of 4',
      });
      expect(await driver.listSnapshots(volumeId)).toEqual([]);
      expect(await driver.volumeExists(orphanVolume)).toBe(false);
      expect(driver.secondaryFile(templatePath(templateId))).toBeUndefined();
      expect(driver.secondaryFile('transfers/t.qcow2')).toBeUndefined();
      expect(await handler.handle(payload)).toEqual({
        ok: true,
        data: { removed, failed: [] },
        message: 'Removed 4 of 4',
      });
    });

    it('goes on past a failure and reports it with the driver message', async () => {
      const driver = instant();
      const gone = randomUUID();
      const orphan = randomUUID();
      await driver.createVolume(orphan, 1);
      const outcome = await new RepairStorageHandler(driver, slots()).handle({
        tags: [{ volumeId: gone, tag: randomUUID() }, null as never],
        volumeIds: [orphan],
        templateIds: [],
        transferPaths: ['templates/not-a-transfer.qcow2'],
      });
      expect(outcome).toEqual({
        ok: true,
        data: {
          removed: [`volume:${orphan}`],
          failed: [
            { target: expect.stringMatching(/^tag:/), message: expect.stringContaining('the volume does not exist') },
            { target: 'tag:undefined/undefined', message: 'Invalid volume id undefined: expected a UUID' },
            {
              target: 'transfer:templates/not-a-transfer.qcow2',
              message: 'Refused to remove templates/not-a-transfer.qcow2: only files under transfers/ are removed',
            },
          ],
        },
        message: 'Removed 1 of 4; 3 failed',
      });
      expect(await driver.volumeExists(orphan)).toBe(false);
    });

    it('refuses a payload whose lists are not lists, removing nothing', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      const outcome = await new RepairStorageHandler(driver, slots()).handle({
        tags: [],
        volumeIds: volumeId as never,
        templateIds: [],
        transferPaths: [],
      });
      expect(outcome).toEqual({ ok: false, message: 'Invalid payload: volumeIds must be a list' });
      expect(await driver.volumeExists(volumeId)).toBe(true);
    });
  });

  describe('a snapshot missing on disk', () => {
    it('fails export and clone with the SNAPSHOT_MISSING reason and a plain message', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, snapshotId);
      driver.simulateLostTag(volumeId, snapshotId);
      const missing = `snapshot ${snapshotId} is missing from volume ${volumeId} on disk`;

      expect(
        await new ExportSnapshotHandler(driver).handle({ volumeId, snapshotId, destination: 'transfers/x.qcow2' }),
      ).toEqual({
        ok: false,
        message: `Could not export snapshot ${snapshotId} of volume ${volumeId} to transfers/x.qcow2: ${missing}`,
        retryable: false,
        reason: JobFailureReason.SNAPSHOT_MISSING,
      });
      const clone = { volumeId: randomUUID(), sizeGiB: 1, source: { kind: 'snapshot' as const, volumeId, snapshotId } };
      expect(await new CreateVolumesHandler(driver).handle({ volumes: [clone] })).toMatchObject({
        ok: false,
        message: expect.stringContaining(missing),
        reason: JobFailureReason.SNAPSHOT_MISSING,
      });
    });

    it('a delete says the tag was already missing, and that nothing was deleted', async () => {
      const driver = instant();
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, snapshotId);
      const handler = new DeleteSnapshotHandler(driver, slots());
      expect(await handler.handle({ volumeId, snapshotId })).toEqual({
        ok: true,
        data: { snapshotId, alreadyGone: false },
        message: 'Snapshot deleted from disk',
      });
      expect(await handler.handle({ volumeId, snapshotId })).toEqual({
        ok: true,
        data: { snapshotId, alreadyGone: true },
        message: 'Snapshot was already missing from disk; nothing to delete',
      });
    });
  });
});

describe('driverFailure', () => {
  it('puts a DriverError reason on the outcome, and no reason key when it has none', () => {
    expect(driverFailure(new DriverError('gone', false, JobFailureReason.SNAPSHOT_MISSING))).toEqual({
      ok: false,
      message: 'gone',
      retryable: false,
      reason: JobFailureReason.SNAPSHOT_MISSING,
    });
    expect(driverFailure(new DriverError('busy', true))).toEqual({ ok: false, message: 'busy', retryable: true });
  });

  it('rethrows anything that is not a DriverError (a bug)', () => {
    expect(() => driverFailure(new TypeError('boom'))).toThrow('boom');
  });
});
