import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { VolumeModel } from './volume.model.js';

function VolumeJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => VolumeModel)
    volume!: VolumeModel;

    @Field(() => JobModel)
    job!: JobModel;
  }
  return Payload;
}

@ObjectType()
export class RevertVolumeToSnapshotPayload extends VolumeJobPayload('RevertVolumeToSnapshotPayload') {}

@ObjectType()
export class CreateVolumeFromSnapshotPayload extends VolumeJobPayload('CreateVolumeFromSnapshotPayload') {}
