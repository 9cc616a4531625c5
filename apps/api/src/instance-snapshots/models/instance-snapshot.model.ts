import { Field, ID, ObjectType } from '@nestjs/graphql';
import { SnapshotState } from '@snapdeck/domain';
import { GraphQLJSON } from 'graphql-type-json';
import type { InstanceSnapshotEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('InstanceSnapshot', {
  implements: () => [NodeModel],
  description: 'A recovery point: every volume of an instance at one instant, optionally with its memory.',
})
export class InstanceSnapshotModel implements NodeModel {
  @Field(() => ID, { description: "The recovery point's id." })
  id!: string;

  @Field({ description: 'Its name (auto-named <instance>_VS_<yyyyMMddHHmmss> unless named).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text kept with it.' })
  description!: string | null;

  @Field(() => SnapshotState, { description: 'Where it is in its life cycle.' })
  state!: SnapshotState;

  @Field({ description: "The guest's memory was saved with the disks." })
  withMemory!: boolean;

  @Field({ description: "The guest's filesystems were frozen while the disks were taken. False until COMPLETED." })
  quiesced!: boolean;

  @Field(() => GraphQLJSON, {
    description:
      'What it captured: cpuCount, memoryMiB, every disk (volumeId, name, device, sizeGiB), memorySaved, and once ' +
      "COMPLETED quiesced and libvirtXml (libvirt's snapshot-dumpxml, for a point with memory; null otherwise).",
  })
  configuration!: Record<string, unknown>;

  @Field({ description: 'When it was asked for.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When every volume was captured.' })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on this recovery point failed.' })
  error!: string | null;

  organizationId!: string;
  environmentId!: string;
  instanceId!: string;
  lastJobId!: string | null;

  static from(row: InstanceSnapshotEntity): InstanceSnapshotModel {
    return Object.assign(new InstanceSnapshotModel(), {
      id: row.id,
      name: row.name,
      description: row.description,
      state: row.state,
      withMemory: row.withMemory,
      quiesced: row.quiesced,
      configuration: row.configuration as Record<string, unknown>,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      error: row.error,
      organizationId: row.organizationId,
      environmentId: row.environmentId,
      instanceId: row.instanceId,
      lastJobId: row.lastJobId,
    });
  }
}

@ObjectType('InstanceSnapshotConnection', {
  description: 'One page of a list of InstanceSnapshot items (a Relay connection).',
})
export class InstanceSnapshotConnection extends Connection(InstanceSnapshotModel, 'InstanceSnapshot') {}
