import { randomUUID } from 'node:crypto';
import { JobName } from '@snapdeck/contracts';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { VolumeDriver } from '../drivers/volume-driver.js';
import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';

const containing = (text: string): unknown => expect.stringContaining(text);
const noDelay = () => Promise.resolve();
const instant = () => new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: noDelay });

describe('job handlers (on the simulator driver)', () => {
  it('declare the job name they handle', () => {
    const driver = instant();
    expect(new CreateVolumesHandler(driver).jobName).toBe(JobName.CREATE_VOLUMES);
    expect(new CreateSnapshotHandler(driver).jobName).toBe(JobName.CREATE_SNAPSHOT);
    expect(new DeleteSnapshotHandler(driver).jobName).toBe(JobName.DELETE_SNAPSHOT);
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
    const create = new CreateSnapshotHandler(driver);
    const remove = new DeleteSnapshotHandler(driver);

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
    const outcome = await new CreateSnapshotHandler(failing).handle({
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
      new CreateSnapshotHandler(driver).handle({ volumeId: randomUUID(), snapshotId: randomUUID() }),
    ).rejects.toThrow('bug');
  });
});
