import { Field, ID, InputType } from '@nestjs/graphql';
import { Role } from '@snapdeck/domain';
import { IsBoolean, IsEnum, IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'What revokeApiToken takes.' })
export class RevokeApiTokenInput {
  @Field(() => ID, { description: 'The token to revoke (its id, as apiTokens lists it; not its secret).' })
  @IsUUID('all', { message: 'apiTokenId is not a valid id' })
  apiTokenId!: string;
}

@InputType({ description: 'What updateUser takes: a field left out keeps its value.' })
export class UpdateUserInput {
  @Field(() => ID, { description: 'The user to change.' })
  @IsUUID('all', { message: 'userId is not a valid id' })
  userId!: string;

  @Field(() => Role, { nullable: true, description: "The new role; never above the caller's own." })
  @IsOptional()
  @IsEnum(Role, { message: 'role must be a Role' })
  role?: Role | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true disables the user: its tokens stop working at once, also on open WebSockets.',
  })
  @IsOptional()
  @IsBoolean({ message: 'disabled must be a boolean' })
  disabled?: boolean | null;
}

@InputType({ description: 'What deleteUser takes.' })
export class DeleteUserInput {
  @Field(() => ID, { description: 'The user to delete; its tokens are deleted with it.' })
  @IsUUID('all', { message: 'userId is not a valid id' })
  userId!: string;
}
