import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { JobName } from '@snapdeck/contracts';
import { JobStatus } from '@snapdeck/domain';
import type { JobEntity } from '@snapdeck/persistence';
import { NodeModel } from '../../common/node.model.js';

/** One asynchronous operation; poll it with `job(id:)` until it is SUCCEEDED or FAILED. */
@ObjectType('Job', { implements: () => [NodeModel] })
export class JobModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field(() => JobName)
  type!: JobName;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int, { description: 'Deliveries to an agent so far.' })
  attempt!: number;

  @Field(() => ID, { nullable: true, description: 'The resource the job works on.' })
  resourceId!: string;

  @Field()
  resourceType!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  static from(row: JobEntity): JobModel {
    return Object.assign(new JobModel(), {
      id: row.id,
      type: row.type,
      status: row.status,
      error: row.error,
      attempt: row.attempt,
      resourceId: row.resourceId,
      resourceType: row.resourceType,
      createdAt: row.createdAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    });
  }
}
