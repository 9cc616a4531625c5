import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { InstanceModel } from './instance.model.js';

/** Every instance mutation answers the instance as it is now and the job that carries the work out. */
export function InstanceJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => InstanceModel, { description: 'The instance as it is now.' })
    instance!: InstanceModel;

    @Field(() => JobModel, {
      description: 'The job that carries the work out: poll job(id) or subscribe to jobUpdated.',
    })
    job!: JobModel;
  }
  return Payload;
}

@ObjectType({ description: 'The instance being created and the job that provisions it.' })
export class CreateInstancePayload extends InstanceJobPayload('CreateInstancePayload') {}

@ObjectType({ description: 'The instance being deployed from the template and the job that provisions it.' })
export class DeployInstancePayload extends InstanceJobPayload('DeployInstancePayload') {}

@ObjectType({ description: 'The instance being created and the job that provisions it.' })
export class CreateInstanceFromSnapshotPayload extends InstanceJobPayload('CreateInstanceFromSnapshotPayload') {}

@ObjectType({ description: 'The instance being destroyed and the job that removes its volumes.' })
export class DestroyInstancePayload extends InstanceJobPayload('DestroyInstancePayload') {}

@ObjectType({ description: 'The instance being started and the job that starts it.' })
export class StartInstancePayload extends InstanceJobPayload('StartInstancePayload') {}

@ObjectType({ description: 'The instance being stopped and the job that stops it.' })
export class StopInstancePayload extends InstanceJobPayload('StopInstancePayload') {}
