import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { BackupCompression, BackupMode } from '@snapdeck/domain';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
  IsOptional,
  IsUUID,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsNotifyList, IsSchedule, IsTimezone } from '../../snapshot-policies/dto/snapshot-policy.fields.js';

/** How many instances one schedule backs up at most. */
export const MAX_SCHEDULE_INSTANCES = 100;

function IsKeepCount(field: string): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    IsInt({ message: `retention.${field} must be an integer` })(target, key);
    Min(0, { message: `retention.${field} must be at least 0` })(target, key);
    Max(100, { message: `retention.${field} must be at most 100` })(target, key);
  };
}

@InputType({
  description:
    "Proxmox's prune rules: keep the newest backup of each of the last N periods, in the schedule's time zone " +
    '(ISO weeks). None positive: keep every backup.',
})
export class BackupRetentionInput {
  @Field(() => Int, { nullable: true, description: 'The newest N backups (0–100).' })
  @IsKeepCount('keepLast')
  keepLast?: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N hours (0–100).' })
  @IsKeepCount('keepHourly')
  keepHourly?: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N days (0–100).' })
  @IsKeepCount('keepDaily')
  keepDaily?: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N ISO weeks (0–100).' })
  @IsKeepCount('keepWeekly')
  keepWeekly?: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N months (0–100).' })
  @IsKeepCount('keepMonthly')
  keepMonthly?: number | null;

  @Field(() => Int, { nullable: true, description: 'The newest backup of each of the last N years (0–100).' })
  @IsKeepCount('keepYearly')
  keepYearly?: number | null;
}

@InputType({ description: 'Recurring backups of instances, pruned by Proxmox-style rules.' })
export class CreateBackupScheduleInput {
  @Field(() => [ID], { description: 'The instances to back up at each occurrence (one backup each).' })
  @IsArray({ message: 'instanceIds must be a list of ids' })
  @ArrayMinSize(1, { message: 'instanceIds needs at least one instance' })
  @ArrayMaxSize(MAX_SCHEDULE_INSTANCES, { message: `instanceIds holds at most ${MAX_SCHEDULE_INSTANCES} instances` })
  @IsUUID('all', { each: true, message: 'instanceIds: every item must be a valid id' })
  instanceIds!: string[];

  @Field({
    description:
      'Cron of 5 fields (minute first) or 6 (seconds first), or @hourly, @daily, @weekly, @monthly; no more often than POLICY_MIN_INTERVAL_SECONDS.',
  })
  @IsSchedule()
  schedule!: string;

  @Field({ description: 'The IANA time zone the schedule and the prune periods are read in.' })
  @IsTimezone()
  timezone!: string;

  @Field(() => BackupMode, { nullable: true, description: 'Default SNAPSHOT.' })
  @IsOptional()
  @IsEnum(BackupMode, { message: 'mode must be SNAPSHOT, SUSPEND or STOP' })
  mode?: BackupMode | null;

  @Field(() => BackupCompression, { nullable: true, description: 'Default ZSTD.' })
  @IsOptional()
  @IsEnum(BackupCompression, { message: 'compression must be NONE, ZSTD or GZIP' })
  compression?: BackupCompression | null;

  @Field(() => ID, { nullable: true, description: 'Default: the storage named `default`.' })
  @IsOptional()
  @IsUUID('all', { message: 'storageId is not a valid id' })
  storageId?: string | null;

  @Field(() => [String], { nullable: true, description: 'E-mail addresses told of each backup and failed run.' })
  @IsOptional()
  @IsNotifyList()
  notify?: string[] | null;

  @Field(() => BackupRetentionInput, { nullable: true, description: 'The prune rules (default: keep everything).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackupRetentionInput)
  retention?: BackupRetentionInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Default true: every run but the first of a chain is incremental (on the newest READY backup of the ' +
      'instance on that storage); false: every run is a full backup.',
  })
  @IsOptional()
  @IsBoolean({ message: 'incremental must be a boolean' })
  incremental?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true. A disabled schedule runs and prunes nothing.' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be a boolean' })
  enabled?: boolean | null;
}

@InputType({ description: 'Changes to a backup schedule: the fields given, the others as they are.' })
export class UpdateBackupScheduleInput {
  @Field(() => ID, { description: "The schedule's id." })
  @IsUUID('all', { message: 'backupScheduleId is not a valid id' })
  backupScheduleId!: string;

  @Field(() => String, { nullable: true, description: 'A new schedule (see createBackupSchedule).' })
  @IsOptional()
  @IsSchedule()
  schedule?: string | null;

  @Field(() => String, { nullable: true, description: 'A new IANA time zone.' })
  @IsOptional()
  @IsTimezone()
  timezone?: string | null;

  @Field(() => BackupRetentionInput, { nullable: true, description: 'New prune rules (replace the old ones).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackupRetentionInput)
  retention?: BackupRetentionInput | null;

  @Field(() => [String], { nullable: true, description: 'The new list of addresses.' })
  @IsOptional()
  @IsNotifyList()
  notify?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Enable (next run counted from now) or disable.' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be a boolean' })
  enabled?: boolean | null;
}

@InputType({ description: 'The schedule to delete (its backups stay, as backups taken by hand).' })
export class DeleteBackupScheduleInput {
  @Field(() => ID, { description: "The schedule's id." })
  @IsUUID('all', { message: 'backupScheduleId is not a valid id' })
  backupScheduleId!: string;
}
