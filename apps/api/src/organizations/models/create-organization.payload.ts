import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from './organization.model.js';

@ObjectType()
export class CreateOrganizationPayload {
  @Field(() => OrganizationModel)
  organization!: OrganizationModel;
}
