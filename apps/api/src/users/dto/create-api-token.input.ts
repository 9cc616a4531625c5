import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

@InputType()
export class CreateApiTokenInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'userId is not a valid id' })
  userId!: string;

  @Field()
  @IsResourceName()
  name!: string;
}
