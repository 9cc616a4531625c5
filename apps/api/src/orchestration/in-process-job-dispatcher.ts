import type { JobEnvelope } from '@snapdeck/contracts';
import type { InProcessBus } from '@snapdeck/transport';
import type { JobDispatcher } from './job-dispatcher.js';

/** All-in-one: hands each job to the co-located agent through memory instead of a Redis queue. */
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

  /** Memory is always there. */
  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
