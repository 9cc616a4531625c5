import { Inject, Injectable } from '@nestjs/common';
import {
  badInput,
  BackupCompression,
  BackupMode,
  InstanceState,
  parseEmailAddresses,
  preconditionFailed,
  type PruneRules,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  type BackupScheduleChanges,
  type BackupScheduleEntity,
  type Page,
  type PageRequest,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { storageFor } from '../backups/begin-backup.js';
import { findWritable } from '../common/access.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { POLICY_CLOCK, type Clock } from '../snapshot-policies/clock.js';
import { PolicySchedule } from '../snapshot-policies/schedule.js';
import { rescheduleOnUpdate } from '../snapshot-policies/rescheduling.js';
import { BackupScheduleWakeups } from './backup-scheduler.service.js';
import type {
  BackupRetentionInput,
  CreateBackupScheduleInput,
  UpdateBackupScheduleInput,
} from './dto/backup-schedule.inputs.js';

const RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** createBackupSchedule, updateBackupSchedule, deleteBackupSchedule and the reads; the runs are the runner's. */
@Injectable()
export class BackupSchedulesService {
  constructor(
    private readonly db: Database,
    private readonly wakeups: BackupScheduleWakeups,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(POLICY_CLOCK) private readonly clock: Clock,
  ) {}

  /** Every instance must be the caller's to change (another organization's is NOT_FOUND) and not being destroyed. */
  async create(principal: Principal, input: CreateBackupScheduleInput): Promise<BackupScheduleEntity> {
    const now = this.clock.now();
    const schedule = this.parse(input.schedule, input.timezone, now);
    const notify = parseEmailAddresses(input.notify ?? [], 'notify');
    const retention = parseRetention(input.retention);
    const instanceIds = [...new Set(input.instanceIds)];
    if (instanceIds.length === 0) throw badInput('instanceIds needs at least one instance', 'instanceIds');
    const created = await this.db.transaction(async (tx) => {
      const instances = [];
      for (const id of instanceIds) {
        instances.push(await findWritable(principal, 'Instance', id, (scope) => tx.instances.findById(scope, id)));
      }
      const organizationId = instances[0].organizationId;
      if (instances.some((i) => i.organizationId !== organizationId)) {
        throw badInput('instanceIds: every instance must belong to one organization', 'instanceIds');
      }
      const destroying = instances.find((i) => i.state === InstanceState.DESTROYING);
      if (destroying) throw preconditionFailed(`Instance ${destroying.name} is being destroyed`);
      const storage = await storageFor(tx, input.storageId);
      return tx.backupSchedules.create(
        {
          organizationId,
          schedule: schedule.expression,
          timezone: schedule.timezone,
          mode: input.mode ?? BackupMode.SNAPSHOT,
          compression: input.compression ?? BackupCompression.ZSTD,
          incremental: input.incremental ?? true,
          storageId: storage.id,
          notify,
          retention,
          enabled: input.enabled ?? true,
          nextRunAt: schedule.next(now)!,
        },
        instanceIds,
      );
    });
    if (created.enabled) this.wakeups.nextRunChanged(created.nextRunAt);
    return created;
  }

  /**
   * A new schedule or zone, or enabling, counts the next run from now (a schedule disabled for a week does not
   * catch up); retention and notify apply from the next backup and prune.
   */
  async update(principal: Principal, input: UpdateBackupScheduleInput): Promise<BackupScheduleEntity> {
    const now = this.clock.now();
    const notify = input.notify != null ? parseEmailAddresses(input.notify, 'notify') : null;
    const retention = input.retention != null ? parseRetention(input.retention) : null;
    const updated = await this.db.transaction(async (tx) => {
      const found = await findWritable(principal, 'BackupSchedule', input.backupScheduleId, (scope) =>
        tx.backupSchedules.findById(scope, input.backupScheduleId),
      );
      const current = (await tx.backupSchedules.lock(found.id))!;
      const changes: BackupScheduleChanges = {
        ...rescheduleOnUpdate(current, input, this.config.POLICY_MIN_INTERVAL_SECONDS, now),
      };
      const enabling = input.enabled === true && !current.enabled;
      if (enabling && (await tx.backupSchedules.instanceIdsOf(current.id)).length === 0) {
        throw preconditionFailed('Every instance of this schedule was destroyed: create a new schedule');
      }
      if (input.enabled != null) changes.enabled = input.enabled;
      if (retention) changes.retention = retention;
      if (notify) changes.notify = notify;
      if (Object.keys(changes).length > 0) await tx.backupSchedules.update(current.id, changes);
      return (await tx.backupSchedules.findById(ALL_ORGANIZATIONS, current.id))!;
    });
    if (updated.enabled) this.wakeups.nextRunChanged(updated.nextRunAt);
    return updated;
  }

  /** The schedule and its runs go; its backups stay, as if taken by hand (nothing prunes them any more). */
  async delete(principal: Principal, scheduleId: string): Promise<BackupScheduleEntity> {
    return this.db.transaction(async (tx) => {
      const found = await findWritable(principal, 'BackupSchedule', scheduleId, (scope) =>
        tx.backupSchedules.findById(scope, scheduleId),
      );
      await tx.backupSchedules.lock(found.id);
      await tx.backupSchedules.remove(found.id);
      return found;
    });
  }

  list(principal: Principal, page: PageRequest): Promise<Page<BackupScheduleEntity>> {
    return this.db.repos.backupSchedules.list(readScope(principal), page);
  }

  now(): Date {
    return this.clock.now();
  }

  private parse(expression: string, timezone: string, now: Date): PolicySchedule {
    return PolicySchedule.parse(expression, timezone, this.config.POLICY_MIN_INTERVAL_SECONDS, now);
  }
}

/**
 * The prune counts given, each an integer 0–100 (BAD_USER_INPUT naming it otherwise, as the input's own checks
 * do for GraphQL callers); none positive means keep everything, as Proxmox.
 */
export function parseRetention(input: BackupRetentionInput | null | undefined): PruneRules {
  const rules: PruneRules = {};
  for (const rule of RULES) {
    const value = input?.[rule];
    if (value == null) continue;
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw badInput(`retention.${rule} must be an integer from 0 to 100`, `retention.${rule}`);
    }
    rules[rule] = value;
  }
  return rules;
}
