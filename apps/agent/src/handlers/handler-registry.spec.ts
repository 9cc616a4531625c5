import { JobName, type JobOutcome } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { HandlerRegistry } from './handler-registry.js';
import { createHandlers } from './index.js';
import type { JobHandler } from './job-handler.js';

class FakeHandler implements JobHandler {
  constructor(
    readonly jobName: JobName,
    private readonly outcome: JobOutcome = { ok: false, message: 'fake' },
  ) {}

  handle(): Promise<JobOutcome> {
    return Promise.resolve(this.outcome);
  }
}
class OtherCreateSnapshotHandler extends FakeHandler {}

const complete = (): JobHandler[] => Object.values(JobName).map((name) => new FakeHandler(name));

describe('HandlerRegistry', () => {
  it("is built from the agent's real handler classes: exactly one per job name of the contract", () => {
    const driver = new SimulatorDriver({ latencyMs: 0, failureRate: 0 });
    const handlers = createHandlers(new AgentDrivers(driver, driver), new SnapshotSlots(2));
    const registry = new HandlerRegistry(handlers);
    expect(registry.jobNames.sort()).toEqual(Object.values(JobName).sort());
    expect(handlers).toHaveLength(Object.values(JobName).length);
    expect(new Set(handlers.map((h) => h.jobName)).size).toBe(handlers.length);
  });

  it('accepts exactly one handler per job name', () => {
    const registry = new HandlerRegistry(complete());
    expect(registry.jobNames.sort()).toEqual(Object.values(JobName).sort());
  });

  it('refuses to start when a job name has no handler', () => {
    const handlers = complete().filter((h) => h.jobName !== JobName.DELETE_SNAPSHOT);
    expect(() => new HandlerRegistry(handlers)).toThrow('no handler for job "delete-snapshot"');
  });

  it('refuses to start when a job name has two handlers, naming both', () => {
    const handlers = [...complete(), new OtherCreateSnapshotHandler(JobName.CREATE_SNAPSHOT)];
    expect(() => new HandlerRegistry(handlers)).toThrow(
      '2 handlers for job "create-snapshot" (FakeHandler, OtherCreateSnapshotHandler)',
    );
  });

  it('refuses a handler for a job name the contract does not know', () => {
    const handlers = [...complete(), new FakeHandler('resize-volume' as JobName)];
    expect(() => new HandlerRegistry(handlers)).toThrow('handles unknown job "resize-volume"');
  });

  it('lists every problem at once', () => {
    const handlers = [new FakeHandler(JobName.CREATE_VOLUMES), new FakeHandler(JobName.CREATE_VOLUMES)];
    expect(() => new HandlerRegistry(handlers)).toThrow(
      /2 handlers for job "create-volumes".*no handler for job "create-snapshot".*no handler for job "delete-snapshot"/,
    );
  });

  it('hands a payload to the handler of its job name', async () => {
    const outcome: JobOutcome<JobName.DELETE_SNAPSHOT> = {
      ok: true,
      data: { snapshotId: 's', alreadyGone: true },
    };
    const handlers = complete().map((h) =>
      h.jobName === JobName.DELETE_SNAPSHOT ? new FakeHandler(JobName.DELETE_SNAPSHOT, outcome) : h,
    );
    const registry = new HandlerRegistry(handlers);
    await expect(
      registry.handle(JobName.DELETE_SNAPSHOT, { volumeId: 'v', snapshotId: 's' }, { jobId: 'j', attempt: 1 }),
    ).resolves.toEqual(outcome);
  });
});
