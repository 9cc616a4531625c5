import { Field, ID, InputType } from '@nestjs/graphql';
import { VolumeType } from '@snapdeck/domain';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'Which volumes to list.' })
export class VolumeFilter {
  @Field(() => ID, { nullable: true, description: 'Only volumes in this environment.' })
  @IsOptional()
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only volumes of this instance.' })
  @IsOptional()
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId?: string | null;

  @Field(() => VolumeType, { nullable: true, description: 'Only volumes of this type.' })
  @IsOptional()
  @IsEnum(VolumeType)
  type?: VolumeType | null;
}
