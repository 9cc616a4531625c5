import { Module } from '@nestjs/common';
import { POLICY_CLOCK, systemClock } from '../snapshot-policies/clock.js';
import { BackupSchedulePrunePass } from './backup-schedule-prune-pass.js';
import { BackupScheduleRunner } from './backup-schedule-runner.js';
import { BackupScheduler, BackupScheduleWakeups } from './backup-scheduler.service.js';
import { BackupSchedulesResolver } from './backup-schedules.resolver.js';
import { BackupSchedulesService } from './backup-schedules.service.js';

/** Backup schedules: their operations, and the policy scheduler's machinery running and pruning them. */
@Module({
  providers: [
    { provide: POLICY_CLOCK, useValue: systemClock },
    BackupSchedulesResolver,
    BackupSchedulesService,
    BackupScheduleWakeups,
    BackupScheduleRunner,
    BackupSchedulePrunePass,
    BackupScheduler,
  ],
})
export class BackupSchedulesModule {}
