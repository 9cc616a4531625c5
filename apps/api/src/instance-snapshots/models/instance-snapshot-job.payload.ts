import { Field, ObjectType } from '@nestjs/graphql';
import { InstanceJobPayload } from '../../instances/models/instance-job.payload.js';
import { JobModel } from '../../jobs/models/job.model.js';
import { InstanceSnapshotModel } from './instance-snapshot.model.js';

@ObjectType()
export class CreateInstanceSnapshotPayload {
  @Field(() => InstanceSnapshotModel)
  instanceSnapshot!: InstanceSnapshotModel;

  @Field(() => JobModel)
  job!: JobModel;
}

@ObjectType()
export class DeleteInstanceSnapshotPayload {
  @Field(() => InstanceSnapshotModel, {
    description: 'DESTROYING until the hypervisor confirms, then gone from every listing.',
  })
  instanceSnapshot!: InstanceSnapshotModel;

  @Field(() => JobModel)
  job!: JobModel;
}

@ObjectType()
export class RevertToInstanceSnapshotPayload extends InstanceJobPayload('RevertToInstanceSnapshotPayload') {}
