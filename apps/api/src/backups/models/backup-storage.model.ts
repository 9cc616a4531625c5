import { Field, ID, ObjectType } from '@nestjs/graphql';
import type { BackupStorageEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('BackupStorage', {
  implements: () => [NodeModel],
  description: 'Where backups are written: a path every node mounts (its location stays with the platform).',
})
export class BackupStorageModel implements NodeModel {
  @Field(() => ID, { description: "The storage's id." })
  id!: string;

  @Field({ description: 'Its name (`default`: the folder `backups` of secondary storage).' })
  name!: string;

  @Field({ description: 'When it was registered.' })
  createdAt!: Date;

  static from(row: BackupStorageEntity): BackupStorageModel {
    return Object.assign(new BackupStorageModel(), { id: row.id, name: row.name, createdAt: row.createdAt });
  }
}

@ObjectType('BackupStorageConnection', {
  description: 'One page of a list of BackupStorage items (a Relay connection).',
})
export class BackupStorageConnection extends Connection(BackupStorageModel, 'BackupStorage') {}

@ObjectType({ description: 'The backup storage registered.' })
export class CreateBackupStoragePayload {
  @Field(() => BackupStorageModel, { description: 'The new storage.' })
  backupStorage!: BackupStorageModel;
}
