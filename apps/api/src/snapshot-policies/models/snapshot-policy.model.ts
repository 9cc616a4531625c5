import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { PolicyRunStatus } from '@snapdeck/domain';
import type { SnapshotPolicyEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { PolicySchedule } from '../schedule.js';

@ObjectType('SnapshotPolicy', {
  implements: () => [NodeModel],
  description: 'Recurring snapshots of one volume on a cron schedule in a time zone, keeping the newest `keep`.',
})
export class SnapshotPolicyModel implements NodeModel {
  @Field(() => ID, { description: "The policy's id." })
  id!: string;

  @Field({ description: 'Cron of 5 or 6 fields, or @hourly/@daily/@weekly/@monthly.' })
  schedule!: string;

  @Field({ description: 'The IANA time zone the schedule is read in.' })
  timezone!: string;

  @Field(() => Int, { description: "How many of the policy's COMPLETED unprotected snapshots are kept." })
  keep!: number;

  @Field({ description: 'A disabled policy runs nothing and keeps its snapshots.' })
  enabled!: boolean;

  @Field(() => [String], { description: 'E-mail addresses told when a run fails.' })
  notify!: string[];

  @Field(() => Date, {
    nullable: true,
    description:
      'When it runs next (UTC): the next occurrence, or the retry of a failed one before it; for a disabled policy, the next occurrence it would have. Null only for a schedule with no future occurrence.',
  })
  nextRunAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'The scheduled time of the last occurrence that ended.' })
  lastRunAt!: Date | null;

  @Field(() => PolicyRunStatus, { nullable: true, description: 'How the last occurrence ended.' })
  lastStatus!: PolicyRunStatus | null;

  @Field(() => String, { nullable: true, description: 'Why the last occurrence failed or was skipped.' })
  lastError!: string | null;

  @Field({ description: 'When it was created.' })
  createdAt!: Date;

  /** Not a field: the resolver reads the volume. */
  volumeId!: string;
  organizationId!: string;

  static from(row: SnapshotPolicyEntity, now = new Date()): SnapshotPolicyModel {
    return Object.assign(new SnapshotPolicyModel(), {
      id: row.id,
      schedule: row.schedule,
      timezone: row.timezone,
      keep: row.keep,
      enabled: row.enabled,
      notify: row.notify,
      nextRunAt: row.enabled ? row.nextRunAt : PolicySchedule.of(row.schedule, row.timezone).next(now),
      lastRunAt: row.lastRunAt,
      lastStatus: row.lastStatus,
      lastError: row.lastError,
      createdAt: row.createdAt,
      volumeId: row.volumeId,
      organizationId: row.organizationId,
    });
  }
}

@ObjectType('SnapshotPolicyConnection', {
  description: 'One page of a list of SnapshotPolicy items (a Relay connection).',
})
export class SnapshotPolicyConnection extends Connection(SnapshotPolicyModel, 'SnapshotPolicy') {}

@ObjectType('CreateSnapshotPolicyPayload', { description: 'The policy just created.' })
export class CreateSnapshotPolicyPayload {
  @Field(() => SnapshotPolicyModel, { description: 'The policy, its nextRunAt set.' })
  snapshotPolicy!: SnapshotPolicyModel;
}

@ObjectType('UpdateSnapshotPolicyPayload', { description: 'The policy as changed.' })
export class UpdateSnapshotPolicyPayload {
  @Field(() => SnapshotPolicyModel, { description: 'The policy as it is now.' })
  snapshotPolicy!: SnapshotPolicyModel;
}

@ObjectType('DeleteSnapshotPolicyPayload', { description: 'The policy just deleted.' })
export class DeleteSnapshotPolicyPayload {
  @Field(() => SnapshotPolicyModel, { description: 'The policy as it was; its snapshots stay.' })
  snapshotPolicy!: SnapshotPolicyModel;
}
