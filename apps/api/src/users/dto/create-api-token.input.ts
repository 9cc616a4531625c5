import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { IsResourceName } from '../../common/validation.js';

/** The longest lifetime a token can be given: ten years. */
export const MAX_TOKEN_DAYS = 3650;

@InputType({ description: 'A new token for a user.' })
export class CreateApiTokenInput {
  @Field(() => ID, { description: 'The user the token will act as: yourself, or a user your role may manage.' })
  @IsUUID('all', { message: 'userId is not a valid id' })
  userId!: string;

  @Field({ description: 'What the token is for (a label; not unique).' })
  @IsResourceName()
  name!: string;

  @Field(() => Int, {
    nullable: true,
    description:
      `Days until the token expires (1–${MAX_TOKEN_DAYS}); absent or null: it never expires (scripts and CI ` +
      'that must not break on a date). Choose a lifetime where you can, and revoke tokens that are no longer used.',
  })
  @IsOptional()
  @IsInt({ message: 'expiresInDays must be a whole number of days' })
  @Min(1, { message: `expiresInDays must be between 1 and ${MAX_TOKEN_DAYS}` })
  @Max(MAX_TOKEN_DAYS, { message: `expiresInDays must be between 1 and ${MAX_TOKEN_DAYS}` })
  expiresInDays?: number | null;
}
