import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../../jobs/models/job.model.js';
import { VolumeModel } from './volume.model.js';

function VolumeJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => VolumeModel, { description: 'The volume as it is now.' })
    volume!: VolumeModel;

    @Field(() => JobModel, {
      description: 'The job that carries the work out: poll job(id) or subscribe to jobUpdated.',
    })
    job!: JobModel;
  }
  return Payload;
}

@ObjectType({ description: 'The volume being rolled back and its job.' })
export class RevertVolumeToSnapshotPayload extends VolumeJobPayload('RevertVolumeToSnapshotPayload') {}

@ObjectType({ description: 'The volume being created and its job.' })
export class CreateVolumeFromSnapshotPayload extends VolumeJobPayload('CreateVolumeFromSnapshotPayload') {}
