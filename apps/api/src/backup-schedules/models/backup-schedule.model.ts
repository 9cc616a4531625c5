import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { BackupCompression, BackupMode, PolicyRunStatus } from '@snapdeck/domain';
import type { BackupScheduleEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { PolicySchedule } from '../../snapshot-policies/schedule.js';

@ObjectType('BackupRetention', {
  description: "Proxmox's prune rules; null or 0 is not a rule. None positive: every backup is kept.",
})
export class BackupRetentionModel {
  @Field(() => Int, { nullable: true, description: 'The newest N backups.' })
  keepLast!: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N hours.' })
  keepHourly!: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N days.' })
  keepDaily!: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N ISO weeks.' })
  keepWeekly!: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N months.' })
  keepMonthly!: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N years.' })
  keepYearly!: number | null;
}

@ObjectType('BackupSchedule', {
  implements: () => [NodeModel],
  description:
    'Recurring backups of instances on a cron schedule in a time zone, pruned by Proxmox-style rules ' +
    "(only the schedule's own backups, never one a kept incremental needs).",
})
export class BackupScheduleModel implements NodeModel {
  @Field(() => ID, { description: "The schedule's id." })
  id!: string;

  @Field({ description: 'Cron of 5 or 6 fields, or @hourly/@daily/@weekly/@monthly.' })
  schedule!: string;

  @Field({ description: 'The IANA time zone of the schedule and of the prune periods.' })
  timezone!: string;

  @Field(() => BackupMode, { description: 'How a running instance is backed up.' })
  mode!: BackupMode;

  @Field(() => BackupCompression, { description: 'How the backups are compressed.' })
  compression!: BackupCompression;

  @Field({ description: 'Every run but the first of a chain incremental; false: all full.' })
  incremental!: boolean;

  @Field(() => [String], { description: 'E-mail addresses told of each backup and of failed or skipped runs.' })
  notify!: string[];

  @Field(() => BackupRetentionModel, { description: 'The prune rules.' })
  retention!: BackupRetentionModel;

  @Field({ description: 'A disabled schedule runs and prunes nothing (also: every instance of it was destroyed).' })
  enabled!: boolean;

  @Field(() => Date, {
    nullable: true,
    description:
      'When it runs next (UTC): the next occurrence, or the retry of a failed one before it; for a disabled schedule, the next occurrence it would have.',
  })
  nextRunAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'The scheduled time of the last occurrence that ran.' })
  lastRunAt!: Date | null;

  @Field(() => PolicyRunStatus, { nullable: true, description: 'How the last occurrence (or its backups) ended.' })
  lastStatus!: PolicyRunStatus | null;

  @Field(() => String, { nullable: true, description: 'Why the last occurrence failed or was skipped.' })
  lastError!: string | null;

  @Field({ description: 'When it was created.' })
  createdAt!: Date;

  /** Not fields: the resolver reads the instances and the storage. */
  storageId!: string;
  organizationId!: string;

  static from(row: BackupScheduleEntity, now = new Date()): BackupScheduleModel {
    const r = row.retention;
    return Object.assign(new BackupScheduleModel(), {
      id: row.id,
      schedule: row.schedule,
      timezone: row.timezone,
      mode: row.mode,
      compression: row.compression,
      incremental: row.incremental,
      notify: row.notify,
      retention: Object.assign(new BackupRetentionModel(), {
        keepLast: r.keepLast ?? null,
        keepHourly: r.keepHourly ?? null,
        keepDaily: r.keepDaily ?? null,
        keepWeekly: r.keepWeekly ?? null,
        keepMonthly: r.keepMonthly ?? null,
        keepYearly: r.keepYearly ?? null,
      }),
      enabled: row.enabled,
      nextRunAt: row.enabled ? row.nextRunAt : PolicySchedule.of(row.schedule, row.timezone).next(now),
      lastRunAt: row.lastRunAt,
      lastStatus: row.lastStatus,
      lastError: row.lastError,
      createdAt: row.createdAt,
      storageId: row.storageId,
      organizationId: row.organizationId,
    });
  }
}

@ObjectType('BackupScheduleConnection', {
  description: 'One page of a list of BackupSchedule items (a Relay connection).',
})
export class BackupScheduleConnection extends Connection(BackupScheduleModel, 'BackupSchedule') {}

@ObjectType('CreateBackupSchedulePayload', { description: 'The schedule just created.' })
export class CreateBackupSchedulePayload {
  @Field(() => BackupScheduleModel, { description: 'The schedule, its nextRunAt set.' })
  backupSchedule!: BackupScheduleModel;
}

@ObjectType('UpdateBackupSchedulePayload', { description: 'The schedule as changed.' })
export class UpdateBackupSchedulePayload {
  @Field(() => BackupScheduleModel, { description: 'The schedule as it is now.' })
  backupSchedule!: BackupScheduleModel;
}

@ObjectType('DeleteBackupSchedulePayload', { description: 'The schedule just deleted.' })
export class DeleteBackupSchedulePayload {
  @Field(() => BackupScheduleModel, { description: 'The schedule as it was; its backups stay.' })
  backupSchedule!: BackupScheduleModel;
}
