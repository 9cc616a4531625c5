import { Field, ID, InputType } from '@nestjs/graphql';
import { Role } from '@snapdeck/domain';
import { IsEmail, IsEnum, IsUUID, MaxLength } from 'class-validator';

@InputType()
export class CreateUserInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId is not a valid id' })
  organizationId!: string;

  @Field()
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @Field(() => Role)
  @IsEnum(Role)
  role!: Role;
}
