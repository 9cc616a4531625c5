import { Injectable, Logger } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { prunePolicy } from './policy-retention.js';

/** Policies one periodic pass prunes at most; the next pass takes the rest. */
const PASS_LIMIT = 100;

/**
 * The periodic retention pass: every enabled policy that holds more COMPLETED unprotected snapshots than it
 * keeps is pruned again, so a delete that failed (host down, agent refused) is retried without waiting for the
 * next successful run (CloudStack #9827: a failed delete is never retried and snapshots pile up).
 */
@Injectable()
export class PolicyRetentionPass {
  private readonly logger = new Logger(PolicyRetentionPass.name);

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /** Answers how many deletes it started. */
  async pruneAll(): Promise<number> {
    let started = 0;
    for (const { policyId } of await this.db.repos.snapshots.policiesBeyondKeep(PASS_LIMIT)) {
      const jobs = await this.db.transaction(async (tx) => {
        const policy = await tx.snapshotPolicies.lock(policyId);
        return policy?.enabled ? prunePolicy(tx, policy.id, policy.keep) : [];
      });
      for (const { job, hostName } of jobs) {
        await this.launcher.launch(job, hostName).catch((error: unknown) => {
          this.logger.warn(`retention delete job ${job.id} not sent, the reconciler will: ${(error as Error).message}`);
        });
      }
      started += jobs.length;
    }
    return started;
  }
}
