import { Field, ID, InputType } from '@nestjs/graphql';
import { BackupCompression, BackupMode } from '@snapdeck/domain';
import { IsBoolean, IsEnum, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsInstanceName, IsResourceName } from '../../common/validation.js';
import { IsNotifyList } from '../../snapshot-policies/dto/snapshot-policy.fields.js';

@InputType({ description: 'A backup storage every node mounts at the same path (platform administrators).' })
export class CreateBackupStorageInput {
  @Field({ description: "The storage's name, unique." })
  @IsResourceName()
  name!: string;

  @Field({ description: 'An absolute, normalized path every node mounts.' })
  @IsString()
  @MaxLength(1024)
  path!: string;
}

@InputType({ description: 'Which backups to list.' })
export class BackupFilter {
  @Field(() => ID, { nullable: true, description: 'Only backups of this instance.' })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only backups of instances of this environment.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only backups on this storage.' })
  @IsOptional()
  @IsUUID('all', { message: 'storageId is not a valid id' })
  storageId?: string | null;
}

@InputType({ description: 'A backup of every disk of an instance ("Backup now").' })
export class CreateBackupInput {
  @Field(() => ID, { description: 'A RUNNING or STOPPED instance whose disks are all READY.' })
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;

  @Field(() => BackupMode, { nullable: true, description: 'How a running instance is backed up (default SNAPSHOT).' })
  @IsOptional()
  @IsEnum(BackupMode)
  mode?: BackupMode | null;

  @Field(() => BackupCompression, { nullable: true, description: 'Default ZSTD.' })
  @IsOptional()
  @IsEnum(BackupCompression)
  compression?: BackupCompression | null;

  @Field(() => ID, { nullable: true, description: 'Default: the storage named `default`.' })
  @IsOptional()
  @IsUUID('all', { message: 'storageId is not a valid id' })
  storageId?: string | null;

  @Field(() => [String], { nullable: true, description: 'E-mail addresses told when it completes or fails.' })
  @IsOptional()
  @IsNotifyList()
  notify?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Only what changed since the instance's newest READY backup on the same storage; a full backup when there " +
      'is none or its disks differ (Backup.incremental says which it was).',
  })
  @IsOptional()
  @IsBoolean()
  incremental?: boolean | null;
}

@InputType({ description: 'The backup to delete.' })
export class DeleteBackupInput {
  @Field(() => ID, { description: "The backup's id." })
  @IsUUID('all', { message: 'backupId is not a valid id' })
  backupId!: string;
}

@InputType({
  description:
    'A restore: instanceId over the backup’s own STOPPED instance (a safety snapshot of each disk first), or ' +
    'environmentId and name into a new instance.',
})
export class RestoreBackupInput {
  @Field(() => ID, { description: 'A READY backup.' })
  @IsUUID('all', { message: 'backupId is not a valid id' })
  backupId!: string;

  @Field(() => ID, { nullable: true, description: "The backup's own instance, STOPPED: its disks are overwritten." })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The environment of the new instance.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;

  @Field(() => String, { nullable: true, description: "The new instance's name (a hostname label)." })
  @IsOptional()
  @IsInstanceName()
  name?: string | null;

  @Field(() => ID, { nullable: true, description: 'The host of the new instance (default: any UP host with room).' })
  @IsOptional()
  @IsUUID('all', { message: 'hostId is not a valid id' })
  hostId?: string | null;
}
