import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { SnapshotModel } from './snapshot.model.js';

@ObjectType()
export class CreateSnapshotPayload {
  @Field(() => SnapshotModel)
  snapshot!: SnapshotModel;

  @Field(() => JobModel)
  job!: JobModel;
}

@ObjectType()
export class DeleteSnapshotPayload {
  @Field(() => SnapshotModel, { description: 'DESTROYING until the disk confirms, then gone from every listing.' })
  snapshot!: SnapshotModel;

  @Field(() => JobModel)
  job!: JobModel;
}
