import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { InstanceModel } from './instance.model.js';

/** Every instance mutation answers the instance as it is now and the job that carries the work out. */
export function InstanceJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => InstanceModel)
    instance!: InstanceModel;

    @Field(() => JobModel)
    job!: JobModel;
  }
  return Payload;
}

@ObjectType()
export class CreateInstancePayload extends InstanceJobPayload('CreateInstancePayload') {}

@ObjectType()
export class DeployInstancePayload extends InstanceJobPayload('DeployInstancePayload') {}

@ObjectType()
export class CreateInstanceFromSnapshotPayload extends InstanceJobPayload('CreateInstanceFromSnapshotPayload') {}

@ObjectType()
export class DestroyInstancePayload extends InstanceJobPayload('DestroyInstancePayload') {}

@ObjectType()
export class StartInstancePayload extends InstanceJobPayload('StartInstancePayload') {}

@ObjectType()
export class StopInstancePayload extends InstanceJobPayload('StopInstancePayload') {}
