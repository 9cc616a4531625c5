import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { JobName, type JobOutcome, type ResultMessage, ResultKind } from '@snapdeck/contracts';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { Clock } from '../clock.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { HandlerRegistry } from '../handlers/handler-registry.js';
import { createHandlers } from '../handlers/index.js';
import type { JobHandler } from '../handlers/job-handler.js';
import { ResultSink } from '../results/result-sink.js';
import { JobRunner, MalformedDeliveryError } from './job-runner.js';
import { DeliveryFence } from '../transport/transport-ports.js';
import { RunningJobs } from './running-jobs.js';
import { SnapshotSlots } from './snapshot-slots.js';

const containing = (text: string): unknown => expect.stringContaining(text);

class MemorySink extends ResultSink {
  readonly messages: ResultMessage[] = [];
  failOn?: ResultKind;

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  publish(message: ResultMessage): Promise<void> {
    if (message.kind === this.failOn) return Promise.reject(new Error('Redis is down'));
    this.messages.push(message);
    return Promise.resolve();
  }
}

/** A fence that answers what the test says, for every job. */
class StaticFence extends DeliveryFence {
  verdict: 'current' | 'stale' | 'unknown' = 'current';
  check(): Promise<'current' | 'stale' | 'unknown'> {
    return Promise.resolve(this.verdict);
  }
}

class FixedClock extends Clock {
  override now(): Date {
    return new Date('2026-11-22T09:30:00.000Z');
  }
}

class ThrowingCreateSnapshotHandler implements JobHandler<JobName.CREATE_SNAPSHOT> {
  readonly jobName = JobName.CREATE_SNAPSHOT;
  calls = 0;

  handle(): Promise<JobOutcome<JobName.CREATE_SNAPSHOT>> {
    this.calls++;
    return Promise.reject(new TypeError("Cannot read properties of undefined (reading 'volumes')"));
  }
}

function setup(options: { throwing?: boolean } = {}) {
  const driver = new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: () => Promise.resolve() });
  const throwing = new ThrowingCreateSnapshotHandler();
  const handlers: JobHandler[] = createHandlers(new AgentDrivers(driver, driver), new SnapshotSlots(2));
  const registry = new HandlerRegistry(
    options.throwing ? [...handlers.filter((h) => h.jobName !== JobName.CREATE_SNAPSHOT), throwing] : handlers,
  );
  const sink = new MemorySink();
  const config = Object.assign(new AgentConfig(), { AGENT_HOST_NAME: 'kvm-3' });
  const running = new RunningJobs();
  const fence = new StaticFence();
  const runner = new JobRunner(registry, sink, config, new FixedClock(), running, fence);
  return { driver, sink, throwing, running, fence, runner };
}

function delivery(name: JobName, payload: object, jobId = randomUUID(), attempt = 1) {
  return { id: `${jobId}.${attempt}`, name, data: { jobId, attempt, name, payload } };
}

describe('JobRunner', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('publishes STARTED, runs the handler, then publishes FINISHED with its outcome', async () => {
    const { runner, sink, driver } = setup();
    const volumeId = randomUUID();
    const job = delivery(JobName.CREATE_VOLUMES, { volumes: [{ volumeId, sizeGiB: 4 }] });

    const outcome = await runner.run(job);

    expect(outcome).toMatchObject({ ok: true, data: { created: [volumeId] } });
    expect(await driver.volumeExists(volumeId)).toBe(true);
    expect(sink.messages).toEqual([
      {
        kind: ResultKind.STARTED,
        jobId: job.data.jobId,
        attempt: 1,
        hostName: 'kvm-3',
        at: '2026-11-22T09:30:00.000Z',
      },
      {
        kind: ResultKind.FINISHED,
        jobId: job.data.jobId,
        attempt: 1,
        hostName: 'kvm-3',
        name: JobName.CREATE_VOLUMES,
        outcome,
        at: '2026-11-22T09:30:00.000Z',
      },
    ]);
  });

  it('reports a handler failure as a FINISHED message with ok: false', async () => {
    const { runner, sink } = setup();
    await runner.run(delivery(JobName.CREATE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }));
    const finished = sink.messages[1];
    expect(finished).toMatchObject({
      kind: ResultKind.FINISHED,
      outcome: { ok: false, message: containing('the volume does not exist on this host') },
    });
  });

  it('turns an exception in a handler into a readable failure without a stack trace', async () => {
    const { runner, sink } = setup({ throwing: true });
    const outcome = await runner.run(
      delivery(JobName.CREATE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }),
    );
    expect(outcome).toEqual({
      ok: false,
      message:
        "Unexpected error in the agent while running create-snapshot: TypeError: Cannot read properties of undefined (reading 'volumes')",
    });
    expect(sink.messages.map((m) => m.kind)).toEqual([ResultKind.STARTED, ResultKind.FINISHED]);
    expect(JSON.stringify(sink.messages)).not.toMatch(/\n\s+at /);
  });

  it('rejects when FINISHED cannot be published, so the queue retries the delivery', async () => {
    const { runner, sink } = setup();
    sink.failOn = ResultKind.FINISHED;
    const job = delivery(JobName.CREATE_VOLUMES, { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] });
    await expect(runner.run(job)).rejects.toThrow('Redis is down');
    // The retry runs the idempotent handler again and this time reports.
    sink.failOn = undefined;
    await expect(runner.run(job)).resolves.toMatchObject({ ok: true });
    expect(sink.messages.filter((m) => m.kind === ResultKind.FINISHED)).toHaveLength(1);
  });

  it('runs the handler and reports FINISHED when STARTED cannot be published (STARTED is only news)', async () => {
    const { runner, sink, throwing } = setup({ throwing: true });
    sink.failOn = ResultKind.STARTED;
    await runner.run(delivery(JobName.CREATE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }));
    expect(throwing.calls).toBe(1);
    expect(sink.messages.map((m) => m.kind)).toEqual([ResultKind.FINISHED]);
  });

  it('does not run a stale attempt and reports nothing for it', async () => {
    const { runner, sink, throwing, fence } = setup({ throwing: true });
    fence.verdict = 'stale';
    await runner.run(delivery(JobName.CREATE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }));
    expect(throwing.calls).toBe(0);
    expect(sink.messages).toEqual([]);
  });

  it('runs a delivery whose fence is missing (a Redis that lost its data must not block work)', async () => {
    const { runner, sink, throwing, fence } = setup({ throwing: true });
    fence.verdict = 'unknown';
    await runner.run(delivery(JobName.CREATE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }));
    expect(throwing.calls).toBe(1);
    expect(sink.messages.map((m) => m.kind)).toEqual([ResultKind.STARTED, ResultKind.FINISHED]);
  });

  it('answers a malformed job it can address with a failed FINISHED, and refuses one it cannot', async () => {
    const { runner, sink } = setup();
    const jobId = randomUUID();
    const outcome = await runner.run({
      id: 'x',
      name: JobName.DELETE_SNAPSHOT,
      data: { jobId, attempt: 2, name: JobName.DELETE_SNAPSHOT },
    });
    expect(outcome).toEqual({ ok: false, message: 'Malformed job: the job has no payload object', retryable: false });
    expect(sink.messages).toEqual([expect.objectContaining({ kind: ResultKind.FINISHED, jobId, attempt: 2, outcome })]);

    await expect(runner.run({ id: 'y', name: 'create-snapshot', data: 42 })).rejects.toThrow(MalformedDeliveryError);
  });
});

describe('JobRunner running-job tracking', () => {
  it('names the job as running while its handler runs, and not after', async () => {
    const running = new RunningJobs();
    const seenDuringHandler: string[][] = [];
    const driver = new SimulatorDriver({
      latencyMs: 1,
      failureRate: 0,
      delay: () => {
        seenDuringHandler.push(running.list());
        return Promise.resolve();
      },
    });
    const registry = new HandlerRegistry(createHandlers(new AgentDrivers(driver, driver), new SnapshotSlots(2)));
    const config = Object.assign(new AgentConfig(), { AGENT_HOST_NAME: 'kvm-3' });
    const runner = new JobRunner(registry, new MemorySink(), config, new FixedClock(), running, new StaticFence());
    const jobId = randomUUID();
    await runner.run(delivery(JobName.CREATE_VOLUMES, { volumes: [{ volumeId: randomUUID(), sizeGiB: 1 }] }, jobId));
    expect(seenDuringHandler.length).toBeGreaterThan(0);
    for (const seen of seenDuringHandler) expect(seen).toEqual([jobId]);
    expect(running.list()).toEqual([]);
  });
});
