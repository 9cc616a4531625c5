import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from './organization.model.js';

@ObjectType({ description: 'The organization created.' })
export class CreateOrganizationPayload {
  @Field(() => OrganizationModel, { description: 'The new organization.' })
  organization!: OrganizationModel;
}
