import { Field, ID, InputType } from '@nestjs/graphql';
import { Role } from '@snapdeck/domain';
import { IsEmail, IsEnum, IsUUID, MaxLength } from 'class-validator';

@InputType({ description: 'A new user of an organization.' })
export class CreateUserInput {
  @Field(() => ID, { description: 'The organization the user belongs to.' })
  @IsUUID('all', { message: 'organizationId is not a valid id' })
  organizationId!: string;

  @Field({ description: "The user's e-mail address (their sign-in name)." })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @Field(() => Role, { description: "The user's role: at most your own." })
  @IsEnum(Role)
  role!: Role;
}
