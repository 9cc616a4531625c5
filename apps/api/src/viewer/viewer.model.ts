import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { UserModel } from '../users/models/user.model.js';

/** The caller: who they are and which organization they act for. */
@ObjectType('Viewer', { description: 'The caller: the user the bearer token acts as, and its organization.' })
export class ViewerModel {
  @Field(() => UserModel, { description: 'The caller.' })
  user!: UserModel;

  @Field(() => OrganizationModel, { description: "The caller's organization." })
  organization!: OrganizationModel;
}
