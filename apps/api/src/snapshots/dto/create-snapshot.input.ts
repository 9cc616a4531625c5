import { Field, ID, InputType } from '@nestjs/graphql';
import { isBlankName } from '@snapdeck/domain';
import { IsBoolean, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import { IsDescription, IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A snapshot of one volume.' })
export class CreateSnapshotInput {
  @Field(() => ID, { description: 'The READY volume to snapshot.' })
  @IsUUID('all', { message: 'volumeId is not a valid id' })
  volumeId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Absent, null or blank: <instanceName>_<volumeName>_<yyyyMMddHHmmss> (UTC).',
  })
  @ValidateIf((input: CreateSnapshotInput) => !isBlankName(input.name))
  @IsResourceName()
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'Free text kept with it.' })
  @IsDescription()
  description?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Freeze the guest's filesystems while the snapshot is taken (needs a RUNNING instance with a guest agent); " +
      'the snapshot is refused rather than taken unquiesced. Snapshot.quiesced records it.',
  })
  @IsOptional()
  @IsBoolean()
  quiesce?: boolean | null;
}
