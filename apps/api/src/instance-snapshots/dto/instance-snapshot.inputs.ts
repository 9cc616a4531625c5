import { Field, ID, InputType } from '@nestjs/graphql';
import { isBlankName } from '@snapdeck/domain';
import { IsBoolean, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import { IsDescription, IsResourceName } from '../../common/validation.js';

@InputType()
export class CreateInstanceSnapshotInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Absent, null or blank: <instanceName>_VS_<yyyyMMddHHmmss> (UTC).',
  })
  @ValidateIf((input: CreateInstanceSnapshotInput) => !isBlankName(input.name))
  @IsResourceName()
  name?: string | null;

  @Field(() => String, { nullable: true })
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

@InputType()
export class RevertToInstanceSnapshotInput {
  @Field(() => ID)
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

@InputType()
export class DeleteInstanceSnapshotInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'instanceSnapshotId is not a valid id' })
  instanceSnapshotId!: string;
}

@InputType()
export class InstanceSnapshotFilter {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;
}
