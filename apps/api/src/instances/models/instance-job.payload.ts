import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { InstanceModel } from './instance.model.js';

/** Every instance mutation answers the instance as it is now and the job that carries the work out. */
@ObjectType()
export class CreateInstancePayload {
  @Field(() => InstanceModel)
  instance!: InstanceModel;

  @Field(() => JobModel)
  job!: JobModel;
}
