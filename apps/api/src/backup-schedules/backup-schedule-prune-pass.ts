import { Injectable, Logger } from '@nestjs/common';
import { ALL_ORGANIZATIONS, Database } from '@snapdeck/persistence';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { pruneScheduleInstance } from './backup-schedule-prune.js';

/** (schedule, instance) pairs one periodic pass prunes at most; the next pass takes the rest. */
const PASS_LIMIT = 100;

/**
 * The periodic prune pass: every enabled schedule's backups of each instance are pruned again, so a delete that
 * failed or was refused (a child still being deleted, no host UP) is retried without waiting for the next backup.
 */
@Injectable()
export class BackupSchedulePrunePass {
  private readonly logger = new Logger(BackupSchedulePrunePass.name);

  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /** Answers how many deletes it started. */
  async pruneAll(): Promise<number> {
    let started = 0;
    for (const { scheduleId, instanceId } of await this.db.repos.backupSchedules.prunablePairs(PASS_LIMIT)) {
      const jobs = await this.db.transaction(async (tx) => {
        const schedule = await tx.backupSchedules.findById(ALL_ORGANIZATIONS, scheduleId);
        return schedule?.enabled ? pruneScheduleInstance(tx, schedule, instanceId) : [];
      });
      for (const { job, hostName } of jobs) {
        await this.launcher.launch(job, hostName).catch((error: unknown) => {
          this.logger.warn(`prune delete job ${job.id} not sent, the reconciler will: ${(error as Error).message}`);
        });
      }
      started += jobs.length;
    }
    return started;
  }
}
