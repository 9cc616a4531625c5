import { Field, ObjectType } from '@nestjs/graphql';
import { InstanceJobPayload } from '../../instances/models/instance-job.payload.js';
import { JobModel } from '../../jobs/models/job.model.js';
import { InstanceSnapshotModel } from './instance-snapshot.model.js';

@ObjectType({ description: 'The recovery point being taken and its job.' })
export class CreateInstanceSnapshotPayload {
  @Field(() => InstanceSnapshotModel, { description: 'The recovery point, IN_PROGRESS until the job finishes.' })
  instanceSnapshot!: InstanceSnapshotModel;

  @Field(() => JobModel, { description: 'The job that takes it.' })
  job!: JobModel;
}

@ObjectType({ description: 'The recovery point being deleted and its job.' })
export class DeleteInstanceSnapshotPayload {
  @Field(() => InstanceSnapshotModel, {
    description: 'DESTROYING until the hypervisor confirms, then gone from every listing.',
  })
  instanceSnapshot!: InstanceSnapshotModel;

  @Field(() => JobModel, { description: 'The job that deletes it from the disks.' })
  job!: JobModel;
}

@ObjectType({ description: 'The instance returning to a recovery point and the job that does it.' })
export class RevertToInstanceSnapshotPayload extends InstanceJobPayload('RevertToInstanceSnapshotPayload') {}
