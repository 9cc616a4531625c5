import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Role } from '@snapdeck/domain';
import type { UserEntity } from '@snapdeck/persistence';
import { NodeModel } from '../../common/node.model.js';

@ObjectType('User', {
  implements: () => [NodeModel],
  description: 'A person (or script) in an organization, with one role.',
})
export class UserModel implements NodeModel {
  @Field(() => ID, { description: "The user's id." })
  id!: string;

  @Field({ description: "The user's e-mail address." })
  email!: string;

  @Field(() => Role, { description: 'What the user may do.' })
  role!: Role;

  @Field({ description: 'When the user was made.' })
  createdAt!: Date;

  @Field({ description: "A disabled user's tokens do not authenticate; updateUser disables and enables." })
  disabled!: boolean;

  organizationId!: string;

  static from(row: UserEntity): UserModel {
    return Object.assign(new UserModel(), {
      id: row.id,
      email: row.email,
      role: row.role,
      createdAt: row.createdAt,
      disabled: row.disabled,
      organizationId: row.organizationId,
    });
  }
}
