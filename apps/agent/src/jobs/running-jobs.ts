import { Injectable } from '@nestjs/common';
import { deliveryId, type HeldDelivery } from '@snapdeck/contracts';

/**
 * The deliveries this agent is carrying out right now. Heartbeats name them, so the api keeps their leases alive
 * however long they take, and lets the lease of a job the agent lost run out.
 */
@Injectable()
export class RunningJobs {
  private readonly deliveries = new Map<string, { held: HeldDelivery; count: number }>();

  /** Counts, because the same delivery may run twice at once (a stalled copy racing the original). */
  add(jobId: string, attempt = 0): void {
    const id = deliveryId(jobId, attempt);
    const entry = this.deliveries.get(id) ?? { held: { jobId, attempt }, count: 0 };
    entry.count++;
    this.deliveries.set(id, entry);
  }

  remove(jobId: string, attempt = 0): void {
    const id = deliveryId(jobId, attempt);
    const entry = this.deliveries.get(id);
    if (!entry) return;
    if (--entry.count <= 0) this.deliveries.delete(id);
  }

  /** The jobs running, once each (what older agents reported, and still sent for older apis). */
  list(): string[] {
    return [...new Set([...this.deliveries.values()].map((e) => e.held.jobId))];
  }

  /** The deliveries running, with their attempts. */
  held(): HeldDelivery[] {
    return [...this.deliveries.values()].map((e) => e.held);
  }
}
