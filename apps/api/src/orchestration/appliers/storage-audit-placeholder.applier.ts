import type { JobName } from '@snapdeck/contracts';
import type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';

/**
 * Replaced by the audit-api branch: the api compares INVENTORY results and applies REPAIR_STORAGE reports there.
 * Here only so the agent's branch (w/audit-agent) compiles with the two new job names; it applies nothing.
 */
export class StorageAuditPlaceholderApplier<
  N extends JobName.INVENTORY | JobName.REPAIR_STORAGE,
> implements JobOutcomeApplier<N> {
  constructor(readonly jobName: N) {}

  apply(): Promise<FollowUpJob[]> {
    return Promise.resolve([]);
  }
}
