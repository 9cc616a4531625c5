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
  /** Each job's fence as the agent would read it: the attempt sent last, or 'closed'. */
  readonly fences = new Map<string, number | 'closed'>();
  readonly acknowledged: Array<{ hostName: string; resultId: string }> = [];
  /** Set it to make the next deliveriesLost() answer true once, as a Redis found empty would. */
  lost = false;

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

  fence(jobId: string, attempt: number): Promise<void> {
    this.fences.set(jobId, attempt);
    return Promise.resolve();
  }

  closeFence(jobId: string): Promise<void> {
    this.fences.set(jobId, 'closed');
    return Promise.resolve();
  }

  acknowledge(hostName: string, resultIds: readonly string[]): Promise<void> {
    for (const resultId of resultIds) this.acknowledged.push({ hostName, resultId });
    return Promise.resolve();
  }

  deliveriesLost(): Promise<boolean> {
    const lost = this.lost;
    this.lost = false;
    return Promise.resolve(lost);
  }

  onReconnect(): void {}

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
