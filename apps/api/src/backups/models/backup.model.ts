import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { BackupCompression, BackupMode, BackupState } from '@snapdeck/domain';
import type { BackupEntity } from '@snapdeck/persistence';
import { GraphQLJSON } from 'graphql-type-json';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { InstanceJobPayload } from '../../instances/models/instance-job.payload.js';
import { JobModel } from '../../jobs/models/job.model.js';

@ObjectType('Backup', {
  implements: () => [NodeModel],
  description: "A copy of every disk of an instance on a backup storage, apart from the instance's own files.",
})
export class BackupModel implements NodeModel {
  @Field(() => ID, { description: "The backup's id (its folder on the storage)." })
  id!: string;

  @Field({ description: 'Its name: <instance>_BK_<yyyyMMddHHmmss> (UTC).' })
  name!: string;

  @Field({ description: 'The name of the instance when it was backed up (it stays after the instance is destroyed).' })
  instanceName!: string;

  @Field(() => BackupMode, { description: 'How a running instance was backed up.' })
  mode!: BackupMode;

  @Field(() => BackupCompression, { description: 'How its files are compressed.' })
  compression!: BackupCompression;

  @Field({ description: 'Only what changed since its parent was written (a qcow2 backed by the parent).' })
  incremental!: boolean;

  @Field(() => Int, { description: "Its place in its chain: 1 for a full backup, its parent's plus one otherwise." })
  chainLength!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why an incremental that was asked for was written as a full backup (null otherwise).',
  })
  fullReason!: string | null;

  @Field(() => BackupState, {
    description: 'CREATING "Creating", READY "Ready", DESTROYING "Destroying", ERROR "Error"',
  })
  state!: BackupState;

  @Field(() => Float, { nullable: true, description: 'Bytes it occupies on its storage (not its parent); once READY.' })
  sizeBytes!: number | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'What it holds ("Show configuration"): the instance and its disks (name, type, size) at backup time, and per ' +
      'disk the file and sha256 of the manifest once READY.',
  })
  configuration!: Record<string, unknown>;

  @Field({ description: 'When it was asked for.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it reached READY.' })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on it failed.' })
  error!: string | null;

  organizationId!: string;
  environmentId!: string;
  instanceId!: string | null;
  storageId!: string;
  parentId!: string | null;
  jobId!: string | null;

  static from(row: BackupEntity): BackupModel {
    return Object.assign(new BackupModel(), {
      id: row.id,
      name: row.name,
      instanceName: row.instanceName,
      mode: row.mode,
      compression: row.compression,
      incremental: row.incremental,
      chainLength: row.chainLength,
      fullReason: row.fullReason,
      state: row.state,
      sizeBytes: row.sizeBytes,
      configuration: row.configuration as unknown as Record<string, unknown>,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      error: row.error,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      instanceId: row.instanceId,
      storageId: row.storageId,
      parentId: row.parentId,
      jobId: row.jobId,
    });
  }
}

@ObjectType('BackupConnection', { description: 'One page of a list of Backup items (a Relay connection).' })
export class BackupConnection extends Connection(BackupModel, 'Backup') {}

@ObjectType({ description: 'The backup being written and its job.' })
export class CreateBackupPayload {
  @Field(() => BackupModel, { description: 'The backup, CREATING until the job finishes.' })
  backup!: BackupModel;

  @Field(() => JobModel, { description: 'The job that writes it.' })
  job!: JobModel;
}

@ObjectType({ description: 'The backup being deleted and its job.' })
export class DeleteBackupPayload {
  @Field(() => BackupModel, { description: 'DESTROYING until its folder is removed, then gone from every listing.' })
  backup!: BackupModel;

  @Field(() => JobModel, { description: 'The job that removes its folder.' })
  job!: JobModel;
}

@ObjectType({ description: 'The instance being restored and the job that writes its disks.' })
export class RestoreBackupPayload extends InstanceJobPayload('RestoreBackupPayload') {}
