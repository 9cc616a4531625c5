import { Inject, Injectable } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { POLICY_CLOCK, type Clock } from './clock.js';
import { DueScheduler } from './due-scheduler.js';
import { PolicyRetentionPass } from './policy-retention-pass.js';
import { PolicyRunner } from './policy-runner.js';
import { PolicyWakeups } from './policy-wakeups.js';

/** When this replica runs due snapshot policies, and their periodic retention pass (see DueScheduler). */
@Injectable()
export class PolicyScheduler extends DueScheduler {
  constructor(
    private readonly db: Database,
    private readonly runner: PolicyRunner,
    private readonly retention: PolicyRetentionPass,
    wakeups: PolicyWakeups,
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(POLICY_CLOCK) clock: Clock,
  ) {
    super(wakeups, config, clock);
  }

  protected earliestDue(): Promise<Date | null> {
    return this.db.repos.snapshotPolicies.earliestDue();
  }

  protected runDue(): Promise<number> {
    return this.runner.runDue();
  }

  protected pruneAll(): Promise<number> {
    return this.retention.pruneAll();
  }
}
