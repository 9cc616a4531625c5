import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { IsKeep, IsNotifyList, IsSchedule, IsTimezone } from './snapshot-policy.fields.js';

@InputType({ description: 'A recurring snapshot of one volume.' })
export class CreateSnapshotPolicyInput {
  @Field(() => ID, { description: 'The volume to snapshot.' })
  @IsUUID('all', { message: 'volumeId is not a valid id' })
  volumeId!: string;

  @Field({
    description:
      'Cron of 5 fields (minute first) or 6 (seconds first), or @hourly, @daily, @weekly, @monthly; no more often than POLICY_MIN_INTERVAL_SECONDS.',
  })
  @IsSchedule()
  schedule!: string;

  @Field({ description: 'The IANA time zone the schedule is read in (Europe/Madrid, UTC).' })
  @IsTimezone()
  timezone!: string;

  @Field(() => Int, { description: "How many of the policy's COMPLETED unprotected snapshots to keep (1–100)." })
  @IsKeep()
  keep!: number;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Default true. A disabled policy runs nothing and keeps its snapshots.',
  })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be a boolean' })
  enabled?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'E-mail addresses told when a run fails (default none).' })
  @IsOptional()
  @IsNotifyList()
  notify?: string[] | null;
}
