import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { UserModel } from '../users/models/user.model.js';

/** The caller: who they are and which organization they act for. */
@ObjectType('Viewer')
export class ViewerModel {
  @Field(() => UserModel)
  user!: UserModel;

  @Field(() => OrganizationModel)
  organization!: OrganizationModel;
}
