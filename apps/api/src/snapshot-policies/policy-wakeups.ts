import { Injectable } from '@nestjs/common';

/**
 * Tells this replica's scheduler that a policy's next run changed (created, re-scheduled, enabled), so it re-arms
 * its timer now instead of at its next poll. Other replicas find out at their next poll (POLICY_POLL_INTERVAL_MS).
 */
@Injectable()
export class PolicyWakeups {
  private listener?: (at: Date) => void;

  listen(listener: (at: Date) => void): void {
    this.listener = listener;
  }

  nextRunChanged(at: Date): void {
    this.listener?.(at);
  }
}
