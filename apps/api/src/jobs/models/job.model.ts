import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { JobName } from '@snapdeck/contracts';
import { JobStatus } from '@snapdeck/domain';
import type { JobEntity } from '@snapdeck/persistence';
import { NodeModel } from '../../common/node.model.js';

/** One asynchronous operation; poll it with `job(id:)` until it is SUCCEEDED or FAILED. */
@ObjectType('Job', {
  implements: () => [NodeModel],
  description:
    'One asynchronous operation; poll it with job(id) or subscribe to jobUpdated until it is SUCCEEDED or FAILED.',
})
export class JobModel implements NodeModel {
  @Field(() => ID, { description: "The job's id." })
  id!: string;

  @Field(() => JobName, { description: 'The operation it carries out.' })
  type!: JobName;

  @Field(() => JobStatus, { description: 'Where the job is.' })
  status!: JobStatus;

  @Field(() => String, { nullable: true, description: 'Why it failed (FAILED only).' })
  error!: string | null;

  @Field(() => Int, { description: 'Deliveries to an agent so far.' })
  attempt!: number;

  @Field(() => ID, { nullable: true, description: 'The resource the job works on.' })
  resourceId!: string;

  @Field({ description: 'The type of the resource it works on.' })
  resourceType!: string;

  @Field({ description: 'When it was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When an agent started it.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it ended.' })
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
