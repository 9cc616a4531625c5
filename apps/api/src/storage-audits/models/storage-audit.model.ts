import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import type { StorageAuditEntity } from '@snapdeck/persistence';
import { GraphQLJSON } from 'graphql-type-json';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { JobModel } from '../../jobs/models/job.model.js';

@ObjectType('StorageAudit', {
  implements: () => [NodeModel],
  description: "A comparison of one host's disks with the database (platform administrators).",
})
export class StorageAuditModel implements NodeModel {
  @Field(() => ID, { description: "The audit's id." })
  id!: string;

  @Field(() => Date, {
    nullable: true,
    description: "When the agent began listing the host's disks (the inventory's takenAt); null until then.",
  })
  startedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the audit closed: its findings recorded and its repair (if any) reported, or it failed.',
  })
  finishedAt!: Date | null;

  @Field({
    description:
      'The audit repairs: missing snapshots, recovery points and volumes become ERROR, and orphans no row owns, older than the grace period, are removed.',
  })
  repaired!: boolean;

  @Field(() => Int, { description: 'Snapshot tags in a volume that no snapshot or recovery point row owns.' })
  orphanTags!: number;

  @Field(() => Int, { description: 'COMPLETED snapshots and recovery points whose tag the disk lacks.' })
  missingSnapshots!: number;

  @Field(() => Int, { description: 'READY volumes whose file the disk lacks.' })
  missingVolumes!: number;

  @Field(() => Int, { description: 'Volume, template and transfer files that no row (or open job) owns.' })
  orphanFiles!: number;

  @Field(() => Int, {
    description:
      'Images a row owns that `qemu-img check` finds corrupt or unreadable (leaked clusters are not counted).',
  })
  damagedImages!: number;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'Each finding: { kind, severity, reason, repairable, repair, volumeId, snapshotId, instanceSnapshotId, templateId, transferId, tag, check } (no host paths), and once the repair reported, the last item { kind: "repair_report", removed, failed }.',
  })
  findings!: unknown;

  /** Not fields: the resolver reads the host and the jobs. */
  hostId!: string;
  jobId!: string | null;
  repairJobId!: string | null;

  static from(row: StorageAuditEntity): StorageAuditModel {
    const findings = row.findings === null ? null : [...row.findings];
    if (findings && row.repairReport) findings.push({ kind: 'repair_report', ...row.repairReport });
    return Object.assign(new StorageAuditModel(), {
      id: row.id,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      repaired: row.repaired,
      orphanTags: row.orphanTags,
      missingSnapshots: row.missingSnapshots,
      missingVolumes: row.missingVolumes,
      orphanFiles: row.orphanFiles,
      damagedImages: row.damagedImages,
      findings,
      hostId: row.hostId,
      jobId: row.jobId,
      repairJobId: row.repairJobId,
    });
  }
}

@ObjectType('StorageAuditConnection', { description: 'One page of a list of StorageAudit items (a Relay connection).' })
export class StorageAuditConnection extends Connection(StorageAuditModel, 'StorageAudit') {}

@ObjectType('AuditStoragePayload', { description: 'The audit just opened and its INVENTORY job.' })
export class AuditStoragePayload {
  @Field(() => StorageAuditModel, { description: 'The audit as it is now.' })
  storageAudit!: StorageAuditModel;

  @Field(() => JobModel, { description: 'The INVENTORY job: poll job(id) or subscribe to jobUpdated.' })
  job!: JobModel;
}
