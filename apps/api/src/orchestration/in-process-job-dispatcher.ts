import type { JobEnvelope } from '@snapdeck/contracts';
import type { InProcessBus } from '@snapdeck/transport';
import type { JobDispatcher } from './job-dispatcher.js';

/**
 * All-in-one: hands each job to the co-located agent through memory instead of a Redis queue. The agent asks the
 * api for its fence (the Job row itself), and a result's call returning is its acknowledgement: no fence keys, no
 * acks, no outbox, and nothing that can be lost without the api (the process) going too.
 */
export class InProcessJobDispatcher implements JobDispatcher {
  constructor(private readonly bus: InProcessBus) {}

  send(hostName: string, envelope: JobEnvelope): Promise<void> {
    this.bus.send(hostName, envelope);
    return Promise.resolve();
  }

  withdraw(hostName: string, jobId: string, attempts: number): Promise<void> {
    this.bus.withdraw(hostName, jobId, attempts);
    return Promise.resolve();
  }

  pendingDeliveries(hostName: string): Promise<number> {
    return Promise.resolve(this.bus.pendingDeliveries(hostName));
  }

  async fence(): Promise<void> {}
  async closeFence(): Promise<void> {}
  async acknowledge(): Promise<void> {}

  /** Memory is lost only with the process, and the reconciler's start-up pass covers that. */
  deliveriesLost(): Promise<boolean> {
    return Promise.resolve(false);
  }

  onReconnect(): void {}

  /** Memory is always there. */
  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
