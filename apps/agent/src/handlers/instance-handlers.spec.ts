import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { JobFailureReason, JobName } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { QemuImgDriver } from '../drivers/qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import type { CreateSnapshotResult } from '../drivers/volume-driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { CreateInstanceSnapshotHandler } from './create-instance-snapshot.handler.js';
import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { DeleteInstanceSnapshotHandler } from './delete-instance-snapshot.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';
import { createHandlers, HandlerRegistry } from './index.js';
import { RevertInstanceSnapshotHandler } from './revert-instance-snapshot.handler.js';
import { StartInstanceHandler } from './start-instance.handler.js';
import { StopInstanceHandler } from './stop-instance.handler.js';

const containing = (text: string): unknown => expect.stringContaining(text);
const noDelay = () => Promise.resolve();
const instant = (guestAgent?: boolean) =>
  new SimulatorDriver({
    latencyMs: 0,
    failureRate: 0,
    delay: noDelay,
    ...(guestAgent === undefined ? {} : { guestAgent }),
  });

/** A simulator with an instance of a ROOT and a DATA disk, and the handlers on it. */
async function setUp(guestAgent?: boolean) {
  const driver = instant(guestAgent);
  const slots = new SnapshotSlots(2);
  const instance = { instanceId: randomUUID(), volumeIds: [randomUUID(), randomUUID()] };
  for (const id of instance.volumeIds) await driver.createVolume(id, 1);
  const drivers = new AgentDrivers(driver, driver);
  return {
    driver,
    instance,
    start: new StartInstanceHandler(drivers),
    stop: new StopInstanceHandler(drivers),
    snapshot: new CreateSnapshotHandler(driver, slots),
    createInstanceSnapshot: new CreateInstanceSnapshotHandler(drivers, slots),
    revertInstanceSnapshot: new RevertInstanceSnapshotHandler(drivers, slots),
    deleteInstanceSnapshot: new DeleteInstanceSnapshotHandler(drivers, slots),
  };
}

describe('instance job handlers (on the simulator driver)', () => {
  it('cover every job name once, so the registry accepts them', () => {
    const driver = instant();
    const slots = new SnapshotSlots(1);
    const handlers = createHandlers(new AgentDrivers(driver, driver), slots);
    const registry = new HandlerRegistry(handlers);
    for (const name of [
      JobName.START_INSTANCE,
      JobName.STOP_INSTANCE,
      JobName.CREATE_INSTANCE_SNAPSHOT,
      JobName.REVERT_INSTANCE_SNAPSHOT,
      JobName.DELETE_INSTANCE_SNAPSHOT,
    ]) {
      expect(registry.jobNames).toContain(name);
    }
  });

  it('start and stop an instance, twice each, with the effect of once', async () => {
    const { driver, instance, start, stop } = await setUp();
    expect(await start.handle(instance)).toEqual({
      ok: true,
      data: { instanceId: instance.instanceId, alreadyRunning: false },
      message: 'Instance started',
    });
    expect(await start.handle(instance)).toMatchObject({ ok: true, data: { alreadyRunning: true } });
    expect(driver.instanceRunning(instance.instanceId)).toBe(true);

    expect(await stop.handle({ ...instance, timeoutSeconds: 30 })).toEqual({
      ok: true,
      data: { instanceId: instance.instanceId, alreadyStopped: false, forced: false },
      message: 'Instance stopped',
    });
    expect(await stop.handle({ ...instance, timeoutSeconds: 30 })).toMatchObject({
      ok: true,
      data: { alreadyStopped: true, forced: false },
    });
    expect(driver.instanceRunning(instance.instanceId)).toBe(false);
  });

  it('refuse a bad instance payload as a failed outcome', async () => {
    const { start, stop, instance } = await setUp();
    expect(await start.handle({ instanceId: 'x', volumeIds: [] })).toMatchObject({
      ok: false,
      message: 'Invalid instance id "x": expected a UUID',
    });
    expect(await start.handle({ instanceId: instance.instanceId, volumeIds: [] })).toMatchObject({
      ok: false,
      message: containing('expected a list of 1 to 26 volume ids'),
    });
    expect(await stop.handle({ ...instance, timeoutSeconds: -1 })).toMatchObject({
      ok: false,
      message: containing('timeoutSeconds'),
    });
  });

  it('pass instanceId and quiesce of CREATE_SNAPSHOT through, and report quiesced', async () => {
    const { driver, instance, start, snapshot } = await setUp();
    await start.handle(instance);
    const volumeId = instance.volumeIds[0] as string;
    const spy = jest.spyOn(driver, 'createSnapshot');
    const snapshotId = randomUUID();
    expect(await snapshot.handle({ volumeId, snapshotId, instanceId: instance.instanceId, quiesce: true })).toEqual({
      ok: true,
      data: { snapshotId, alreadyExisted: false, sizeBytes: null, quiesced: true },
      message: 'Snapshot taken with the guest file systems frozen',
    });
    expect(spy).toHaveBeenCalledWith(volumeId, snapshotId, { instanceId: instance.instanceId, quiesce: true });
    expect(
      await snapshot.handle({ volumeId, snapshotId, instanceId: instance.instanceId, quiesce: true }),
    ).toMatchObject({ ok: true, data: { alreadyExisted: true, quiesced: false } });
    // Without the new fields (an api before them): the driver gets no options, the result says not quiesced.
    const plain = randomUUID();
    expect(await snapshot.handle({ volumeId, snapshotId: plain })).toMatchObject({
      ok: true,
      data: { alreadyExisted: false, quiesced: false },
    });
    expect(spy).toHaveBeenLastCalledWith(volumeId, plain, {});
  });

  it('fail a quiesced snapshot clearly when the guest agent does not answer, taking nothing', async () => {
    const { driver, instance, start, snapshot } = await setUp(false);
    await start.handle(instance);
    const volumeId = instance.volumeIds[0] as string;
    expect(
      await snapshot.handle({ volumeId, snapshotId: randomUUID(), instanceId: instance.instanceId, quiesce: true }),
    ).toMatchObject({ ok: false, message: containing('guest agent of instance') });
    expect(await driver.listSnapshots(volumeId)).toEqual([]);
  });

  it('take, revert and delete an instance snapshot idempotently', async () => {
    const { driver, instance, start, stop, createInstanceSnapshot, revertInstanceSnapshot, deleteInstanceSnapshot } =
      await setUp();
    await start.handle(instance);
    const [root, data] = instance.volumeIds as [string, string];
    const atPoint = [driver.simulateWrite(root), driver.simulateWrite(data)];
    const instanceSnapshotId = randomUUID();
    const create = { ...instance, instanceSnapshotId, withMemory: true, quiesce: false };
    expect(await createInstanceSnapshot.handle(create)).toEqual({
      ok: true,
      data: { instanceSnapshotId, alreadyExisted: false, quiesced: false },
      message: 'Recovery point taken with memory',
    });
    expect(await createInstanceSnapshot.handle(create)).toMatchObject({ ok: true, data: { alreadyExisted: true } });
    driver.simulateWrite(root);
    driver.simulateWrite(data);

    for (let i = 0; i < 2; i++) {
      expect(await revertInstanceSnapshot.handle({ ...instance, instanceSnapshotId, startAfter: true })).toEqual({
        ok: true,
        data: { instanceSnapshotId, running: true },
        message: 'Instance reverted to the recovery point; it is running',
      });
      expect([driver.volumeGeneration(root), driver.volumeGeneration(data)]).toEqual(atPoint);
    }
    await stop.handle({ ...instance, timeoutSeconds: 0 });
    expect(await revertInstanceSnapshot.handle({ ...instance, instanceSnapshotId, startAfter: false })).toMatchObject({
      ok: true,
      data: { running: false },
    });
    expect(driver.instanceRunning(instance.instanceId)).toBe(false);

    expect(await deleteInstanceSnapshot.handle({ ...instance, instanceSnapshotId })).toMatchObject({
      ok: true,
      data: { instanceSnapshotId, alreadyGone: false },
    });
    expect(await deleteInstanceSnapshot.handle({ ...instance, instanceSnapshotId })).toMatchObject({
      ok: true,
      data: { alreadyGone: true },
      message: 'Recovery point was already missing from disk; nothing to delete',
    });
    expect(await revertInstanceSnapshot.handle({ ...instance, instanceSnapshotId, startAfter: true })).toMatchObject({
      ok: false,
      message: containing(`has no recovery point ${instanceSnapshotId}`),
      reason: JobFailureReason.SNAPSHOT_MISSING,
    });
  });
});

describe('the snapshot slots (AGENT_MAX_CONCURRENT_SNAPSHOTS)', () => {
  /** A simulator whose snapshots wait until released, counting how many are inside the driver at once. */
  class GatedDriver extends SimulatorDriver {
    inside = 0;
    most = 0;
    readonly gates: (() => void)[] = [];

    override async createSnapshot(volumeId: string, snapshotId: string): Promise<CreateSnapshotResult> {
      this.inside++;
      this.most = Math.max(this.most, this.inside);
      await new Promise<void>((resolve) => this.gates.push(resolve));
      try {
        return await super.createSnapshot(volumeId, snapshotId);
      } finally {
        this.inside--;
      }
    }
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('let 5 concurrent creates with a limit of 2 reach the driver 2 at a time, and finish all', async () => {
    const driver = new GatedDriver({ latencyMs: 0, failureRate: 0, delay: noDelay });
    const slots = new SnapshotSlots(2);
    const handler = new CreateSnapshotHandler(driver, slots);
    const jobs = Array.from({ length: 5 }, () => ({ volumeId: randomUUID(), snapshotId: randomUUID() }));
    for (const { volumeId } of jobs) await driver.createVolume(volumeId, 1);

    const outcomes = Promise.all(jobs.map((job) => handler.handle(job)));
    let released = 0;
    while (released < 5) {
      await settle();
      expect(driver.inside).toBeLessThanOrEqual(2);
      expect(slots.running).toBeLessThanOrEqual(2);
      if (released === 0) {
        expect(driver.inside).toBe(2);
        expect(slots.queued).toBe(3);
      }
      const gate = driver.gates.shift();
      if (gate) {
        gate();
        released++;
      }
    }
    expect((await outcomes).every((o) => o.ok)).toBe(true);
    expect(driver.most).toBe(2);
    expect(slots.running).toBe(0);
    for (const { volumeId, snapshotId } of jobs) {
      expect((await driver.listSnapshots(volumeId)).map((s) => s.tag)).toEqual([snapshotId]);
    }
  });

  it('share one limit between deletes and instance snapshots: none reaches the driver while the slot is taken', async () => {
    const driver = instant();
    const slots = new SnapshotSlots(1);
    const deletes = jest.spyOn(driver, 'deleteSnapshot');
    const points = jest.spyOn(driver, 'createInstanceSnapshot');
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID()] };
    const volumeId = instance.volumeIds[0] as string;
    await driver.createVolume(volumeId, 1);
    let release: () => void = () => undefined;
    const held = slots.run(() => new Promise<void>((resolve) => (release = resolve)));

    const both = Promise.all([
      new DeleteSnapshotHandler(driver, slots).handle({ volumeId, snapshotId: randomUUID() }),
      new CreateInstanceSnapshotHandler(new AgentDrivers(driver, driver), slots).handle({
        ...instance,
        instanceSnapshotId: randomUUID(),
        withMemory: false,
        quiesce: false,
      }),
    ]);
    await settle();
    expect(slots.queued).toBe(2);
    expect(deletes).not.toHaveBeenCalled();
    expect(points).not.toHaveBeenCalled();
    release();
    await held;
    expect((await both).every((o) => o.ok)).toBe(true);
    expect(deletes).toHaveBeenCalledTimes(1);
    expect(points).toHaveBeenCalledTimes(1);
  });

  it('answer on a node without an instance port (qemu-img) with a failed job saying what to set, touching nothing', async () => {
    const volumes = new QemuImgDriver({ storageDir: '/nonexistent', secondaryDir: '/nonexistent' });
    const drivers = new AgentDrivers(volumes);
    const slots = new SnapshotSlots(1);
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID()] };
    const refused = {
      ok: false,
      message: 'the qemu-img driver cannot run instances: set AGENT_DRIVER=libvirt on KVM nodes (simulator for tests)',
      retryable: false,
    };
    expect(await new StartInstanceHandler(drivers).handle(instance)).toEqual(refused);
    expect(await new StopInstanceHandler(drivers).handle({ ...instance, timeoutSeconds: 10 })).toEqual(refused);
    const instanceSnapshotId = randomUUID();
    expect(
      await new CreateInstanceSnapshotHandler(drivers, slots).handle({
        ...instance,
        instanceSnapshotId,
        withMemory: false,
        quiesce: false,
      }),
    ).toEqual(refused);
    expect(
      await new RevertInstanceSnapshotHandler(drivers, slots).handle({
        ...instance,
        instanceSnapshotId,
        startAfter: true,
      }),
    ).toEqual(refused);
    expect(await new DeleteInstanceSnapshotHandler(drivers, slots).handle({ ...instance, instanceSnapshotId })).toEqual(
      refused,
    );
    expect(slots.running).toBe(0);
  });
});
