import { Injectable } from '@nestjs/common';

/**
 * The jobs this agent is carrying out right now. Heartbeats name them, so the api keeps their leases alive
 * however long they take, and lets the lease of a job the agent lost run out.
 */
@Injectable()
export class RunningJobs {
  private readonly ids = new Map<string, number>();

  /** Counts, because the same job may be delivered twice at once (a re-dispatch racing the original). */
  add(jobId: string): void {
    this.ids.set(jobId, (this.ids.get(jobId) ?? 0) + 1);
  }

  remove(jobId: string): void {
    const left = (this.ids.get(jobId) ?? 0) - 1;
    if (left > 0) this.ids.set(jobId, left);
    else this.ids.delete(jobId);
  }

  list(): string[] {
    return [...this.ids.keys()];
  }
}
