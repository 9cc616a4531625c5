import { deliveryId, type JobEnvelope } from '@snapdeck/contracts';
import type { JobDispatcher } from './job-dispatcher.js';

/**
 * The queue of the integration specs (test support: not built into dist): it records what would have been sent
 * and withdrawn instead of sending it, and can be told to fail the next sends as an unreachable Redis would.
 */
export class RecordingDispatcher implements JobDispatcher {
  readonly sent: Array<{ hostName: string; envelope: JobEnvelope }> = [];
  readonly withdrawn: Array<{ hostName: string; jobId: string; attempts: number }> = [];
  /** How many of the next sends fail. */
  failNext = 0;

  send(hostName: string, envelope: JobEnvelope): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('Redis is unreachable'));
    }
    this.sent.push({ hostName, envelope });
    return Promise.resolve();
  }

  withdraw(hostName: string, jobId: string, attempts: number): Promise<void> {
    this.withdrawn.push({ hostName, jobId, attempts });
    return Promise.resolve();
  }

  pendingDeliveries(): Promise<number> {
    return Promise.resolve(0);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The delivery ids sent for one job, in order. */
  deliveries(jobId: string): string[] {
    return this.sent
      .filter((s) => s.envelope.jobId === jobId)
      .map((s) => deliveryId(s.envelope.jobId, s.envelope.attempt));
  }
}
