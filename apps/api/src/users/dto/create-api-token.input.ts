import { Field, ID, InputType } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A new token for a user.' })
export class CreateApiTokenInput {
  @Field(() => ID, { description: 'The user the token will act as: yourself, or a user your role may manage.' })
  @IsUUID('all', { message: 'userId is not a valid id' })
  userId!: string;

  @Field({ description: 'What the token is for (a label; not unique).' })
  @IsResourceName()
  name!: string;
}
