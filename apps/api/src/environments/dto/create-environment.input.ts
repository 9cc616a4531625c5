import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsUUID } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A new environment (a group of instances, e.g. production or staging).' })
export class CreateEnvironmentInput {
  @Field({ description: "The environment's name, unique within its organization." })
  @IsResourceName()
  name!: string;

  @Field(() => ID, {
    nullable: true,
    description: "Defaults to the caller's organization; another one is for platform administrators.",
  })
  @IsOptional()
  @IsUUID('all', { message: 'organizationId is not a valid id' })
  organizationId?: string | null;
}
