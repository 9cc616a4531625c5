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
    expect(await driver.createSnapshot(volumeId, snapshotId)).toEqual({ alreadyExisted: false, sizeBytes: null });
    expect(await driver.createSnapshot(volumeId, snapshotId)).toEqual({ alreadyExisted: true, sizeBytes: null });
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
});
