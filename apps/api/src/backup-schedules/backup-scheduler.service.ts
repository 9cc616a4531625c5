import { Inject, Injectable } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { POLICY_CLOCK, type Clock } from '../snapshot-policies/clock.js';
import { DueScheduler } from '../snapshot-policies/due-scheduler.js';
import { PolicyWakeups } from '../snapshot-policies/policy-wakeups.js';
import { BackupSchedulePrunePass } from './backup-schedule-prune-pass.js';
import { BackupScheduleRunner } from './backup-schedule-runner.js';

/** This replica's wake-ups for backup schedules (created, re-scheduled, enabled here). */
@Injectable()
export class BackupScheduleWakeups extends PolicyWakeups {}

/** When this replica runs due backup schedules, and their periodic prune pass (see DueScheduler). */
@Injectable()
export class BackupScheduler extends DueScheduler {
  constructor(
    private readonly db: Database,
    private readonly runner: BackupScheduleRunner,
    private readonly prunePass: BackupSchedulePrunePass,
    wakeups: BackupScheduleWakeups,
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(POLICY_CLOCK) clock: Clock,
  ) {
    super(wakeups, config, clock);
  }

  protected earliestDue(): Promise<Date | null> {
    return this.db.repos.backupSchedules.earliestDue();
  }

  protected runDue(): Promise<number> {
    return this.runner.runDue();
  }

  protected pruneAll(): Promise<number> {
    return this.prunePass.pruneAll();
  }
}
