import { randomUUID } from 'node:crypto';
import { Injectable, Logger as NestLogger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AgentConfig } from '@snapdeck/config';
import { JobName, type JobOutcome, type ResultMessage } from '@snapdeck/contracts';
import { Logger } from 'nestjs-pino';
import { AgentDrivers } from '../drivers/agent-drivers.js';
import { Clock } from '../clock.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import { HandlerRegistry } from '../handlers/handler-registry.js';
import { createHandlers } from '../handlers/index.js';
import type { JobHandler } from '../handlers/job-handler.js';
import { JobRunner } from '../jobs/job-runner.js';
import { RunningJobs } from '../jobs/running-jobs.js';
import { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { ResultSink } from '../results/result-sink.js';
import { DeliveryFence } from '../transport/transport-ports.js';
import { agentLoggerModule } from './logging.module.js';

type Line = Record<string, unknown> & { msg: string; context?: string };

class MemorySink extends ResultSink {
  readonly messages: ResultMessage[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  publish(message: ResultMessage): Promise<void> {
    this.messages.push(message);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A handler that logs the way any agent code does (`new Logger(...)`), and takes its time. */
@Injectable()
class ChattySnapshotHandler implements JobHandler<JobName.CREATE_SNAPSHOT> {
  readonly jobName = JobName.CREATE_SNAPSHOT;
  private readonly logger = new NestLogger(ChattySnapshotHandler.name);

  async handle(payload: { volumeId: string; snapshotId: string }): Promise<JobOutcome<JobName.CREATE_SNAPSHOT>> {
    this.logger.log(`snapshotting volume ${payload.volumeId}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.logger.debug(`tagged ${payload.snapshotId}`);
    return { ok: true, data: { snapshotId: payload.snapshotId, alreadyExisted: false, sizeBytes: null } };
  }
}

function delivery(name: JobName, payload: object, jobId: string, attempt: number) {
  return { id: `${jobId}.${attempt}`, name, data: { jobId, attempt, name, payload } };
}

describe('agent logs: every line about a job carries its jobId and attempt', () => {
  const lines: Line[] = [];
  let moduleRef: TestingModule;
  let runner: JobRunner;

  beforeAll(async () => {
    const driver = new SimulatorDriver({ latencyMs: 0, failureRate: 0, delay: () => Promise.resolve() });
    const handlers: JobHandler[] = [
      ...createHandlers(new AgentDrivers(driver, driver), new SnapshotSlots(2)).filter(
        (h) => h.jobName !== JobName.CREATE_SNAPSHOT,
      ),
      new ChattySnapshotHandler(),
    ];
    moduleRef = await Test.createTestingModule({
      imports: [
        agentLoggerModule(
          { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' },
          { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
        ),
      ],
      providers: [
        JobRunner,
        RunningJobs,
        Clock,
        { provide: HandlerRegistry, useValue: new HandlerRegistry(handlers) },
        { provide: ResultSink, useValue: new MemorySink() },
        { provide: DeliveryFence, useValue: { check: () => Promise.resolve('current') } },
        { provide: AgentConfig, useValue: Object.assign(new AgentConfig(), { AGENT_HOST_NAME: 'kvm-9' }) },
      ],
    }).compile();
    moduleRef.useLogger(moduleRef.get(Logger));
    runner = moduleRef.get(JobRunner);
  });

  afterAll(async () => {
    NestLogger.overrideLogger(false);
    await moduleRef.close();
  });

  const about = (jobId: string) => lines.filter((line) => line.msg.includes(jobId) || line.jobId === jobId);

  it('binds jobId, attempt, jobName and host to the runner’s and the handler’s lines, job by job', async () => {
    const first = randomUUID();
    const second = randomUUID();
    const payload = () => ({ volumeId: randomUUID(), snapshotId: randomUUID() });
    // Two at once: each line must carry its own job's fields, not the other's.
    await Promise.all([
      runner.run(delivery(JobName.CREATE_SNAPSHOT, payload(), first, 1)),
      runner.run(delivery(JobName.CREATE_SNAPSHOT, payload(), second, 2)),
    ]);
    new NestLogger('Elsewhere').log('a line about no job');

    for (const [jobId, attempt] of [
      [first, 1],
      [second, 2],
    ] as const) {
      const mine = lines.filter((line) => line.jobId === jobId);
      expect(mine.map((line) => [line.context, line.level])).toEqual([
        ['JobRunner', 'info'],
        ['ChattySnapshotHandler', 'info'],
        ['ChattySnapshotHandler', 'debug'],
        ['JobRunner', 'info'],
      ]);
      for (const line of mine) {
        expect(line).toMatchObject({ jobId, attempt, jobName: 'create-snapshot', host: 'kvm-9' });
        expect(typeof line.time).toBe('string');
        expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
      }
      expect(about(jobId)).toEqual(mine);
    }
    expect(lines.find((line) => line.msg === 'a line about no job')).not.toHaveProperty('jobId');
  });

  it('marks a failed job’s lines too, and a delivery that names no job by its delivery id', async () => {
    const jobId = randomUUID();
    await runner.run(delivery(JobName.DELETE_SNAPSHOT, { volumeId: randomUUID(), snapshotId: randomUUID() }, jobId, 3));
    const failedLine = lines.find((line) => line.jobId === jobId && line.level === 'warn');
    expect(failedLine).toMatchObject({ attempt: 3, jobName: 'delete-snapshot', context: 'JobRunner' });
    expect(failedLine?.msg).toMatch(/failed/);

    await expect(runner.run({ id: 'junk-1', name: 'create-snapshot', data: 42 })).rejects.toThrow('Malformed');
    expect(lines.find((line) => line.level === 'error' && line.deliveryId === 'junk-1')).toMatchObject({
      context: 'JobRunner',
      host: 'kvm-9',
    });
  });
});
