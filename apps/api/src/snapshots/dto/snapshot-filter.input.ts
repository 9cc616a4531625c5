import { Field, ID, InputType } from '@nestjs/graphql';
import { SnapshotState } from '@snapdeck/domain';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'Which snapshots to list.' })
export class SnapshotFilter {
  @Field(() => ID, { nullable: true, description: 'Only snapshots in this environment.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;

  @Field(() => ID, { nullable: true, description: "Only snapshots of this instance's volumes." })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only snapshots of this volume.' })
  @IsOptional()
  @IsUUID('all', { message: 'volumeId is not a valid id' })
  volumeId?: string | null;

  @Field(() => [SnapshotState], { nullable: true, description: 'Only snapshots in these states.' })
  @IsOptional()
  @IsEnum(SnapshotState, { each: true })
  states?: SnapshotState[] | null;
}
