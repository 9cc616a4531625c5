import type { AgentConfig } from '@snapdeck/config';
import type { AgentEvent, HeldDelivery, ResultMessage } from '@snapdeck/contracts';
import type { BusConsumer, InProcessBus } from '@snapdeck/transport';
import type { JobRunner } from '../jobs/job-runner.js';
import { ResultSink } from '../results/result-sink.js';
import { AgentEventSink, DeliveryFence, JobSource, TransportConnections } from './transport-ports.js';

/**
 * The agent's ties to an api in the same process, through the InProcessBus of an all-in-one `npm start`.
 * Results and heartbeats resolve once the api has applied them; a rejection makes the runner's delivery fail
 * and the bus retry it, as a BullMQ queue would. So a result's call returning is its acknowledgement: there is
 * no outbox here (nothing is lost that the process does not lose with the api and its bus), and the fence is
 * the api's own answer from the Job row.
 */

export class InProcessConnections extends TransportConnections {
  /** Nothing to reach: the api is in this process. */
  async waitUntilReachable(): Promise<void> {}
  async close(): Promise<void> {}
}

export class InProcessJobSource extends JobSource {
  private consumer?: BusConsumer;

  constructor(
    private readonly bus: InProcessBus,
    private readonly config: AgentConfig,
    private readonly runner: JobRunner,
  ) {
    super();
  }

  start(): Promise<void> {
    this.consumer = this.bus.consume(this.config.AGENT_HOST_NAME, this.config.AGENT_CONCURRENCY, async (delivery) => {
      await this.runner.run(delivery);
    });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.close();
  }

  waitingDeliveries(limit: number): Promise<HeldDelivery[]> {
    return Promise.resolve(this.bus.waitingDeliveries(this.config.AGENT_HOST_NAME).slice(0, Math.max(0, limit)));
  }
}

export class InProcessDeliveryFence extends DeliveryFence {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  async check(jobId: string, attempt: number): Promise<'current' | 'stale'> {
    return (await this.bus.isCurrentAttempt(jobId, attempt)) ? 'current' : 'stale';
  }
}

export class InProcessResultSink extends ResultSink {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  async start(): Promise<void> {}
  publish(message: ResultMessage): Promise<void> {
    return this.bus.publishResult(message);
  }
  async close(): Promise<void> {}
}

export class InProcessAgentEventSink extends AgentEventSink {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  async start(): Promise<void> {}
  send(event: AgentEvent): Promise<void> {
    return this.bus.publishAgentEvent(event);
  }
  async close(): Promise<void> {}
}
