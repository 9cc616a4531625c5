import { Field, ID, InputType } from '@nestjs/graphql';
import { isBlankName } from '@snapdeck/domain';
import { IsBoolean, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import { IsDescription, IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A recovery point of an instance: every volume at one instant.' })
export class CreateInstanceSnapshotInput {
  @Field(() => ID, { description: 'The instance to take the recovery point of.' })
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Absent, null or blank: <instanceName>_VS_<yyyyMMddHHmmss> (UTC).',
  })
  @ValidateIf((input: CreateInstanceSnapshotInput) => !isBlankName(input.name))
  @IsResourceName()
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'Free text kept with it.' })
  @IsDescription()
  description?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Also save the guest's memory, so a revert resumes it where it was (RUNNING instances only).",
  })
  @IsOptional()
  @IsBoolean()
  withMemory?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Freeze the guest's filesystems while the disks are taken (RUNNING, with a guest agent).",
  })
  @IsOptional()
  @IsBoolean()
  quiesce?: boolean | null;
}

@InputType({ description: 'The recovery point to return the instance to.' })
export class RevertToInstanceSnapshotInput {
  @Field(() => ID, { description: "The recovery point's id." })
  @IsUUID('all', { message: 'instanceSnapshotId is not a valid id' })
  instanceSnapshotId!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Run the instance after the revert (default: it is left STOPPED).',
  })
  @IsOptional()
  @IsBoolean()
  startAfter?: boolean | null;
}

@InputType({ description: 'The recovery point to delete.' })
export class DeleteInstanceSnapshotInput {
  @Field(() => ID, { description: "The recovery point's id." })
  @IsUUID('all', { message: 'instanceSnapshotId is not a valid id' })
  instanceSnapshotId!: string;
}

@InputType({ description: 'Which recovery points to list.' })
export class InstanceSnapshotFilter {
  @Field(() => ID, { nullable: true, description: 'Only recovery points of this instance.' })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;
}
