import { Field, ID, InputType } from '@nestjs/graphql';
import { SnapshotState } from '@snapdeck/domain';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';

@InputType()
export class SnapshotFilter {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'volumeId is not a valid id' })
  volumeId?: string | null;

  @Field(() => [SnapshotState], { nullable: true })
  @IsOptional()
  @IsEnum(SnapshotState, { each: true })
  states?: SnapshotState[] | null;
}
