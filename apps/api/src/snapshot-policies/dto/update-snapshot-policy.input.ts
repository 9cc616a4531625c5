import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { IsKeep, IsNotifyList, IsSchedule, IsTimezone } from './snapshot-policy.fields.js';

@InputType({ description: 'Changes to a snapshot policy: the fields given, the others as they are.' })
export class UpdateSnapshotPolicyInput {
  @Field(() => ID, { description: "The policy's id." })
  @IsUUID('all', { message: 'snapshotPolicyId is not a valid id' })
  snapshotPolicyId!: string;

  @Field(() => String, { nullable: true, description: 'A new schedule (see createSnapshotPolicy).' })
  @IsOptional()
  @IsSchedule()
  schedule?: string | null;

  @Field(() => String, { nullable: true, description: 'A new IANA time zone.' })
  @IsOptional()
  @IsTimezone()
  timezone?: string | null;

  @Field(() => Int, { nullable: true, description: 'A new keep (1–100): the next prune applies it.' })
  @IsOptional()
  @IsKeep()
  keep?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Enable (next run counted from now) or disable.' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be a boolean' })
  enabled?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'The new list of addresses told of failed runs.' })
  @IsOptional()
  @IsNotifyList()
  notify?: string[] | null;
}
