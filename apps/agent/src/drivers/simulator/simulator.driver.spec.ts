import { randomUUID } from 'node:crypto';
import { DriverError } from '../volume-driver.js';
import { SimulatorDriver, type SimulatorDriverOptions } from './simulator.driver.js';

const containing = (text: string): unknown => expect.stringContaining(text);

/** A simulator that records the waits it was asked for instead of waiting, and draws from a fixed sequence. */
function simulator(options: Partial<SimulatorDriverOptions> & { draws?: number[] } = {}) {
  const waits: number[] = [];
  const draws = [...(options.draws ?? [])];
  const driver = new SimulatorDriver({
    latencyMs: options.latencyMs ?? 0,
    failureRate: options.failureRate ?? 0,
    random: () => draws.shift() ?? 0.999,
    delay: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { driver, waits };
}

describe('SimulatorDriver', () => {
  const volumeId = randomUUID();
  const snapshotId = randomUUID();

  it('waits SIMULATOR_LATENCY_MS for every operation', async () => {
    const { driver, waits } = simulator({ latencyMs: 250 });
    await driver.createVolume(volumeId, 10);
    await driver.createSnapshot(volumeId, snapshotId);
    await driver.deleteSnapshot(volumeId, snapshotId);
    expect(waits).toEqual([250, 250, 250]);
  });

  it('really waits when no delay is injected', async () => {
    const driver = new SimulatorDriver({ latencyMs: 30, failureRate: 0 });
    const began = Date.now();
    await driver.createVolume(volumeId, 1);
    // Lower bound only: the test must not fail on a slow machine.
    expect(Date.now() - began).toBeGreaterThanOrEqual(25);
  });

  it('fails the share of operations whose random draw is below SIMULATOR_FAILURE_RATE, with a clear, retryable error', async () => {
    const { driver } = simulator({ failureRate: 0.25, draws: [0.5, 0.1, 0.3] });
    await expect(driver.createVolume(volumeId, 10)).resolves.toEqual({ alreadyExisted: false });
    const failure = driver.createSnapshot(volumeId, snapshotId);
    await expect(failure).rejects.toThrow(DriverError);
    await expect(failure).rejects.toMatchObject({
      message: containing(`Simulated failure: could not create snapshot ${snapshotId}`),
      retryable: true,
    });
    await expect(driver.createSnapshot(volumeId, snapshotId)).resolves.toEqual({
      alreadyExisted: false,
      sizeBytes: null,
      quiesced: false,
    });
  });

  it('changes nothing when an operation fails', async () => {
    const { driver } = simulator({ failureRate: 0.5, draws: [0.9, 0.9, 0.1, 0.9] });
    await driver.createVolume(volumeId, 10);
    await driver.createSnapshot(volumeId, snapshotId);
    await expect(driver.deleteSnapshot(volumeId, snapshotId)).rejects.toThrow('Simulated failure');
    expect((await driver.listSnapshots(volumeId)).map((s) => s.tag)).toEqual([snapshotId]);
  });

  it('never fails at rate 0 and always fails at rate 1', async () => {
    const never = simulator({ failureRate: 0, draws: [0] }).driver;
    await expect(never.createVolume(volumeId, 1)).resolves.toBeDefined();
    const always = simulator({ failureRate: 1, draws: [0.999999] }).driver;
    await expect(always.createVolume(volumeId, 1)).rejects.toThrow('Simulated failure');
  });

  it('is idempotent like a real driver', async () => {
    const { driver } = simulator();
    expect(await driver.createVolume(volumeId, 10)).toEqual({ alreadyExisted: false });
    expect(await driver.createVolume(volumeId, 10)).toEqual({ alreadyExisted: true });
    expect(await driver.createSnapshot(volumeId, snapshotId)).toEqual({
      alreadyExisted: false,
      sizeBytes: null,
      quiesced: false,
    });
    expect(await driver.createSnapshot(volumeId, snapshotId)).toEqual({
      alreadyExisted: true,
      sizeBytes: null,
      quiesced: false,
    });
    expect(await driver.listSnapshots(volumeId)).toHaveLength(1);
    expect(await driver.deleteSnapshot(volumeId, snapshotId)).toEqual({ alreadyGone: false });
    expect(await driver.deleteSnapshot(volumeId, snapshotId)).toEqual({ alreadyGone: true });
    expect(await driver.listSnapshots(volumeId)).toEqual([]);
  });

  it('refuses a volume that exists with another size, a missing volume, and ids that are not UUIDs', async () => {
    const { driver } = simulator();
    await driver.createVolume(volumeId, 10);
    await expect(driver.createVolume(volumeId, 20)).rejects.toThrow('already exists with a size of 10 GiB, not 20 GiB');
    await expect(driver.createSnapshot(randomUUID(), snapshotId)).rejects.toThrow('does not exist on this host');
    await expect(driver.createSnapshot('../etc', snapshotId)).rejects.toThrow('Invalid volume id "../etc"');
    await expect(driver.createSnapshot(volumeId, 'x')).rejects.toThrow('Invalid snapshot id "x"');
    await expect(driver.createVolume(randomUUID(), 0)).rejects.toThrow('Invalid volume size 0');
  });

  describe('copies, reverts, templates and destroy', () => {
    const GIB = 1024 ** 3;

    it('reverts a volume to the data of its snapshot, keeps the snapshot, and refuses a missing tag', async () => {
      const { driver } = simulator();
      const id = randomUUID();
      const tag = randomUUID();
      await driver.createVolume(id, 1);
      const atSnapshot = driver.simulateWrite(id);
      await driver.createSnapshot(id, tag);
      driver.simulateWrite(id);
      expect(driver.volumeGeneration(id)).not.toBe(atSnapshot);

      await driver.revertSnapshot(id, tag);
      expect(driver.volumeGeneration(id)).toBe(atSnapshot);
      await driver.revertSnapshot(id, tag);
      expect(driver.volumeGeneration(id)).toBe(atSnapshot);
      expect((await driver.listSnapshots(id)).map((s) => s.tag)).toEqual([tag]);

      const missing = randomUUID();
      await expect(driver.revertSnapshot(id, missing)).rejects.toThrow(
        `snapshot ${missing} is missing from volume ${id} on disk`,
      );
      await expect(driver.revertSnapshot(randomUUID(), tag)).rejects.toThrow('the volume does not exist');
    });

    it('exports a snapshot to secondary storage once, and makes volumes from it and from a snapshot', async () => {
      const { driver } = simulator();
      const source = randomUUID();
      const tag = randomUUID();
      await driver.createVolume(source, 2);
      const atSnapshot = driver.simulateWrite(source);
      await driver.createSnapshot(source, tag);
      driver.simulateWrite(source);

      await expect(driver.exportSnapshot(source, tag, 'transfers/t.qcow2')).resolves.toEqual({
        alreadyExisted: false,
        virtualSizeBytes: 2 * GIB,
      });
      await expect(driver.exportSnapshot(source, tag, 'transfers/t.qcow2')).resolves.toEqual({
        alreadyExisted: true,
        virtualSizeBytes: 2 * GIB,
      });
      expect(driver.secondaryFile('transfers/t.qcow2')).toMatchObject({
        virtualSizeBytes: 2 * GIB,
        generation: atSnapshot,
      });

      const fromFile = randomUUID();
      await expect(
        driver.createVolume(fromFile, 3, { kind: 'secondary', path: 'transfers/t.qcow2', removeAfter: true }),
      ).resolves.toEqual({ alreadyExisted: false });
      expect(driver.volumeGeneration(fromFile)).toBe(atSnapshot);
      // The driver never removes a source by itself: the handler does, once every volume exists.
      expect(driver.secondaryFile('transfers/t.qcow2')).toBeDefined();
      await expect(driver.removeTransfer('transfers/t.qcow2')).resolves.toEqual({ alreadyGone: false });
      await expect(driver.removeTransfer('transfers/t.qcow2')).resolves.toEqual({ alreadyGone: true });
      await expect(driver.removeTransfer('templates/x.qcow2')).rejects.toThrow('only files under transfers/');
      // Source gone, volume there: a repeated delivery is success.
      await expect(
        driver.createVolume(fromFile, 3, { kind: 'secondary', path: 'transfers/t.qcow2', removeAfter: true }),
      ).resolves.toEqual({ alreadyExisted: true });

      const fromSnapshot = randomUUID();
      await driver.createVolume(fromSnapshot, 2, { kind: 'snapshot', volumeId: source, snapshotId: tag });
      expect(driver.volumeGeneration(fromSnapshot)).toBe(atSnapshot);
      await expect(
        driver.createVolume(randomUUID(), 1, { kind: 'snapshot', volumeId: source, snapshotId: tag }),
      ).rejects.toThrow("the requested size of 1 GiB is smaller than the source's 2 GiB");
      await expect(
        driver.createVolume(randomUUID(), 2, { kind: 'secondary', path: 'transfers/gone.qcow2' }),
      ).rejects.toThrow('transfers/gone.qcow2 does not exist in secondary storage');
      await expect(driver.exportSnapshot(source, randomUUID(), 'transfers/u.qcow2')).rejects.toThrow(
        'is missing from volume',
      );
      await expect(driver.exportSnapshot(source, tag, '../u.qcow2')).rejects.toThrow('Invalid destination');
    });

    it('imports only a file present in its secondary storage, then deletes the template twice', async () => {
      const { driver } = simulator();
      const templateId = randomUUID();
      const generation = driver.putSecondaryFile('uploads/base.qcow2', 5 * GIB);

      await expect(driver.importTemplate(templateId, 'uploads/base.qcow2')).resolves.toEqual({
        alreadyExisted: false,
        virtualSizeBytes: 5 * GIB,
      });
      expect(driver.secondaryFile(`templates/${templateId}.qcow2`)).toMatchObject({
        virtualSizeBytes: 5 * GIB,
        generation,
      });
      await expect(driver.importTemplate(templateId, 'uploads/base.qcow2')).resolves.toMatchObject({
        alreadyExisted: true,
      });

      const other = randomUUID();
      await expect(driver.importTemplate(other, 'uploads/missing.qcow2')).rejects.toThrow(
        'uploads/missing.qcow2 does not exist in secondary storage (simulator driver',
      );
      await expect(driver.importTemplate(other, '/etc/passwd')).rejects.toThrow('an absolute path');
      await expect(driver.importTemplate(other, '../x')).rejects.toThrow('".." segment');
      await expect(driver.importTemplate('x', 'uploads/base.qcow2')).rejects.toThrow('Invalid template id "x"');

      await expect(driver.deleteTemplate(templateId)).resolves.toEqual({ alreadyGone: false });
      await expect(driver.deleteTemplate(templateId)).resolves.toEqual({ alreadyGone: true });
      expect(driver.secondaryFile(`templates/${templateId}.qcow2`)).toBeUndefined();
      expect(driver.secondaryFile('uploads/base.qcow2')).toBeDefined();
    });

    it('destroys a volume with its snapshots, then reports it already gone', async () => {
      const { driver } = simulator();
      const id = randomUUID();
      await driver.createVolume(id, 1);
      await driver.createSnapshot(id, randomUUID());
      await expect(driver.destroyVolume(id)).resolves.toEqual({ alreadyGone: false });
      await expect(driver.volumeExists(id)).resolves.toBe(false);
      await expect(driver.destroyVolume(id)).resolves.toEqual({ alreadyGone: true });
      await expect(driver.listSnapshots(id)).rejects.toThrow('does not exist');
    });

    it('changes nothing when a copy fails by simulation', async () => {
      const { driver } = simulator({ failureRate: 0.5, draws: [0.9, 0.1] });
      const id = randomUUID();
      driver.putSecondaryFile('uploads/a.qcow2', GIB);
      await driver.importTemplate(randomUUID(), 'uploads/a.qcow2');
      await expect(driver.createVolume(id, 1, { kind: 'secondary', path: 'uploads/a.qcow2' })).rejects.toThrow(
        'Simulated failure: could not create volume',
      );
      await expect(driver.volumeExists(id)).resolves.toBe(false);
    });
  });
});

describe('SimulatorDriver instances', () => {
  const make = (guestAgent?: boolean) =>
    new SimulatorDriver({
      latencyMs: 0,
      failureRate: 0,
      delay: () => Promise.resolve(),
      ...(guestAgent === undefined ? {} : { guestAgent }),
    });

  async function withInstance(guestAgent?: boolean) {
    const driver = make(guestAgent);
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID(), randomUUID()] };
    for (const id of instance.volumeIds) await driver.createVolume(id, 1);
    const [root, data] = instance.volumeIds as [string, string];
    return { driver, instance, root, data };
  }

  it('starts and stops an instance, each idempotently, and refuses one whose disk is missing', async () => {
    const { driver, instance } = await withInstance();
    expect(await driver.startInstance(instance)).toEqual({ alreadyRunning: false });
    expect(await driver.startInstance(instance)).toEqual({ alreadyRunning: true });
    expect(driver.instanceRunning(instance.instanceId)).toBe(true);
    await expect(driver.startInstance({ ...instance, volumeIds: [instance.volumeIds[0] as string] })).rejects.toThrow(
      'stop it first',
    );
    expect(await driver.stopInstance(instance, 10)).toEqual({ alreadyStopped: false, forced: false });
    expect(await driver.stopInstance(instance, 10)).toEqual({ alreadyStopped: true, forced: false });
    expect(driver.instanceRunning(instance.instanceId)).toBe(false);

    const missing = randomUUID();
    await expect(driver.startInstance({ instanceId: randomUUID(), volumeIds: [missing] })).rejects.toThrow(
      `volume ${missing} does not exist on this host`,
    );
  });

  it('snapshots a running instance disk, quiesced when asked; not quiesced when stopped (nothing to freeze)', async () => {
    const { driver, instance, root } = await withInstance();
    const stopped = randomUUID();
    expect(await driver.createSnapshot(root, stopped, { instanceId: instance.instanceId, quiesce: true })).toEqual({
      alreadyExisted: false,
      sizeBytes: null,
      quiesced: false,
    });
    await driver.startInstance(instance);
    const gen = driver.simulateWrite(root);
    const live = randomUUID();
    expect(await driver.createSnapshot(root, live, { instanceId: instance.instanceId, quiesce: true })).toEqual({
      alreadyExisted: false,
      sizeBytes: null,
      quiesced: true,
    });
    driver.simulateWrite(root);
    await driver.stopInstance(instance, 0);
    await driver.revertSnapshot(root, live);
    expect(driver.volumeGeneration(root)).toBe(gen);
  });

  it('fails a quiesced snapshot, taking nothing, when the guest agent does not answer (option or per instance)', async () => {
    const { driver, instance, root } = await withInstance(false);
    await driver.startInstance(instance);
    await expect(
      driver.createSnapshot(root, randomUUID(), { instanceId: instance.instanceId, quiesce: true }),
    ).rejects.toThrow(`quiesce requested but the guest agent of instance ${instance.instanceId} does not answer`);
    expect(await driver.listSnapshots(root)).toEqual([]);
    driver.setGuestAgent(instance.instanceId, true);
    expect(await driver.createSnapshot(root, randomUUID(), { quiesce: true })).toMatchObject({ quiesced: true });

    const other = await withInstance();
    other.driver.setGuestAgent(other.instance.instanceId, false);
    await other.driver.startInstance(other.instance);
    await expect(other.driver.createSnapshot(other.root, randomUUID(), { quiesce: true })).rejects.toThrow(
      'does not answer',
    );
    // Without quiesce the guest agent is not needed.
    expect(await other.driver.createSnapshot(other.root, randomUUID())).toMatchObject({ quiesced: false });
  });

  it('refuses to revert or destroy a running instance disk', async () => {
    const { driver, instance, root } = await withInstance();
    const snapshotId = randomUUID();
    await driver.createSnapshot(root, snapshotId);
    await driver.startInstance(instance);
    await expect(driver.revertSnapshot(root, snapshotId)).rejects.toThrow(
      `it is a disk of running instance ${instance.instanceId}; stop it first`,
    );
    await expect(driver.destroyVolume(root)).rejects.toThrow('stop it first');
    await driver.stopInstance(instance, 0);
    await driver.revertSnapshot(root, snapshotId);
    expect(await driver.destroyVolume(root)).toEqual({ alreadyGone: false });
  });

  it('takes an instance snapshot with memory and reverts every disk to it, running or stopped as asked', async () => {
    const { driver, instance, root, data } = await withInstance();
    const instanceSnapshotId = randomUUID();
    await expect(
      driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: false }),
    ).rejects.toThrow('a recovery point with memory needs a running instance');
    await driver.startInstance(instance);
    await expect(
      driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: true }),
    ).rejects.toThrow('cannot be quiesced');
    const at = [driver.simulateWrite(root), driver.simulateWrite(data)];
    expect(
      await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: false }),
    ).toEqual({
      alreadyExisted: false,
      quiesced: false,
    });
    expect(
      await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: false }),
    ).toEqual({
      alreadyExisted: true,
      quiesced: false,
    });
    driver.simulateWrite(root);
    driver.simulateWrite(data);
    expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, false)).toEqual({ running: false });
    expect([driver.volumeGeneration(root), driver.volumeGeneration(data)]).toEqual(at);
    expect(driver.instanceRunning(instance.instanceId)).toBe(false);
    driver.simulateWrite(data);
    expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).toEqual({ running: true });
    expect(driver.volumeGeneration(data)).toBe(at[1]);
    expect(driver.instanceRunning(instance.instanceId)).toBe(true);
    expect(await driver.deleteInstanceSnapshot(instance, instanceSnapshotId)).toEqual({ alreadyGone: false });
    expect(await driver.deleteInstanceSnapshot(instance, instanceSnapshotId)).toEqual({ alreadyGone: true });
  });

  it('reverts an instance snapshot without memory only while stopped; quiesces it when running', async () => {
    const { driver, instance, root } = await withInstance();
    await driver.startInstance(instance);
    const at = driver.simulateWrite(root);
    const instanceSnapshotId = randomUUID();
    expect(
      await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: false, quiesce: true }),
    ).toEqual({
      alreadyExisted: false,
      quiesced: true,
    });
    driver.simulateWrite(root);
    await expect(driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).rejects.toThrow(
      'can be reverted only while the instance is stopped',
    );
    await driver.stopInstance(instance, 0);
    expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).toEqual({ running: true });
    expect(driver.volumeGeneration(root)).toBe(at);
  });
});
