import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryId, type AgentEvent, type JobEnvelope, type ResultMessage } from '@snapdeck/contracts';

/** One queued delivery, as the agent's job source hands it to the runner (the same shape BullMQ gives). */
export interface BusDelivery {
  id: string;
  name: string;
  data: JobEnvelope;
}

export type DeliveryHandler = (delivery: BusDelivery) => Promise<void>;
export type ResultHandler = (message: ResultMessage) => Promise<void>;
export type AgentEventHandler = (event: AgentEvent) => Promise<void>;
/** The api's answer to an agent's fence question: is this attempt still the open job's current one? */
export type FenceHandler = (jobId: string, attempt: number) => Promise<boolean>;

export interface BusConsumer {
  /** Stops taking deliveries and resolves once the ones running have finished. */
  close(): Promise<void>;
}

/** Deliveries of a job whose handler rejected are tried again, as the BullMQ dispatcher asks of its queue. */
export const BUS_DELIVERY_ATTEMPTS = 3;

export interface InProcessBusOptions {
  /** The wait before the second try of a delivery; it doubles before each further one. */
  retryDelayMs?: number;
}

interface HostLine {
  waiting: BusDelivery[];
  active: number;
  consumer?: { concurrency: number; handler: DeliveryHandler; running: Set<Promise<void>>; closed: boolean };
}

/**
 * The all-in-one stand-in for Redis: the api and a co-located agent in one process exchange the same messages
 * (job envelopes, STARTED/FINISHED results, heartbeats) through memory. Nothing here outlives the process, and
 * nothing needs to: the Job rows and their leases are in PostgreSQL, so after a restart the reconciler sends
 * again whatever was queued or running, exactly as it does when a Redis queue loses a delivery.
 */
export class InProcessBus {
  private readonly hosts = new Map<string, HostLine>();
  private resultHandler?: ResultHandler;
  private agentEventHandler?: AgentEventHandler;
  private fenceHandler?: FenceHandler;
  private readonly retryDelayMs: number;

  constructor(options: InProcessBusOptions = {}) {
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  // --- the api's side ---------------------------------------------------------------------------------

  /** Queues a delivery for the host's agent; like a BullMQ add with a fixed id, a second send of one id is ignored. */
  send(hostName: string, envelope: JobEnvelope): void {
    const line = this.lineOf(hostName);
    const id = deliveryId(envelope.jobId, envelope.attempt);
    if (line.waiting.some((d) => d.id === id)) return;
    line.waiting.push({ id, name: envelope.name, data: envelope });
    this.pump(hostName);
  }

  /** Takes back deliveries that no agent has started; a running one finishes and its late result is ignored. */
  withdraw(hostName: string, jobId: string, attempts: number): void {
    const line = this.hosts.get(hostName);
    if (!line) return;
    const ids = new Set(Array.from({ length: attempts }, (_, i) => deliveryId(jobId, i + 1)));
    line.waiting = line.waiting.filter((d) => !ids.has(d.id));
  }

  /** Deliveries not finished yet: waiting and running. */
  pendingDeliveries(hostName: string): number {
    const line = this.hosts.get(hostName);
    return line ? line.waiting.length + line.active : 0;
  }

  onResult(handler: ResultHandler): void {
    this.resultHandler = handler;
  }

  onAgentEvent(handler: AgentEventHandler): void {
    this.agentEventHandler = handler;
  }

  onFenceQuery(handler: FenceHandler): void {
    this.fenceHandler = handler;
  }

  // --- the agent's side -------------------------------------------------------------------------------

  /** Starts taking the host's deliveries, `concurrency` at a time. One consumer per host. */
  consume(hostName: string, concurrency: number, handler: DeliveryHandler): BusConsumer {
    const line = this.lineOf(hostName);
    if (line.consumer && !line.consumer.closed) throw new Error(`Host ${hostName} already has a consumer`);
    const consumer = { concurrency, handler, running: new Set<Promise<void>>(), closed: false };
    line.consumer = consumer;
    this.pump(hostName);
    return {
      close: async () => {
        consumer.closed = true;
        await Promise.all([...consumer.running]);
      },
    };
  }

  /** Resolves once the api has applied the result; rejects when it could not (the delivery is then retried). */
  async publishResult(message: ResultMessage): Promise<void> {
    if (!this.resultHandler) throw new Error('No api is listening for job results in this process');
    await this.resultHandler(message);
  }

  /** The agent's fence: asks the api itself, which reads the Job row. */
  async isCurrentAttempt(jobId: string, attempt: number): Promise<boolean> {
    if (!this.fenceHandler) throw new Error('No api is answering fence questions in this process');
    return this.fenceHandler(jobId, attempt);
  }

  /** The deliveries waiting for the host's agent (not running yet), oldest first: its heartbeat names them. */
  waitingDeliveries(hostName: string): { jobId: string; attempt: number }[] {
    return (this.hosts.get(hostName)?.waiting ?? []).map((d) => ({ jobId: d.data.jobId, attempt: d.data.attempt }));
  }

  async publishAgentEvent(event: AgentEvent): Promise<void> {
    if (!this.agentEventHandler) throw new Error('No api is listening for agent events in this process');
    await this.agentEventHandler(event);
  }

  // ------------------------------------------------------------------------------------------------------

  private lineOf(hostName: string): HostLine {
    let line = this.hosts.get(hostName);
    if (!line) {
      line = { waiting: [], active: 0 };
      this.hosts.set(hostName, line);
    }
    return line;
  }

  private pump(hostName: string): void {
    const line = this.lineOf(hostName);
    const consumer = line.consumer;
    if (!consumer) return;
    while (!consumer.closed && line.active < consumer.concurrency && line.waiting.length > 0) {
      const delivery = line.waiting.shift()!;
      line.active++;
      const run = this.deliver(consumer, delivery).finally(() => {
        line.active--;
        consumer.running.delete(run);
        this.pump(hostName);
      });
      consumer.running.add(run);
    }
  }

  private async deliver(consumer: { handler: DeliveryHandler; closed: boolean }, delivery: BusDelivery): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.handler(delivery);
        return;
      } catch {
        // The agent logs its own failures; after the last try, or once the agent stops, the Job row's lease lets
        // the reconciler decide.
        if (attempt >= BUS_DELIVERY_ATTEMPTS || consumer.closed) return;
        await sleep(this.retryDelayMs * 2 ** (attempt - 1));
        if (consumer.closed) return;
      }
    }
  }
}
