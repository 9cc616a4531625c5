import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { SnapshotModel } from './snapshot.model.js';

@ObjectType({ description: 'The snapshot being taken and its job.' })
export class CreateSnapshotPayload {
  @Field(() => SnapshotModel, { description: 'The snapshot, IN_PROGRESS until the job finishes.' })
  snapshot!: SnapshotModel;

  @Field(() => JobModel, { description: "The job that takes it on the volume's host." })
  job!: JobModel;
}

@ObjectType({ description: 'The snapshot being deleted and its job.' })
export class DeleteSnapshotPayload {
  @Field(() => SnapshotModel, { description: 'DESTROYING until the disk confirms, then gone from every listing.' })
  snapshot!: SnapshotModel;

  @Field(() => JobModel, { description: 'The job that deletes it from the disk.' })
  job!: JobModel;
}

@ObjectType({ description: 'The snapshot whose protection was set.' })
export class SetSnapshotProtectionPayload {
  @Field(() => SnapshotModel, { description: 'The snapshot as it is now.' })
  snapshot!: SnapshotModel;
}
