import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from './organization.model.js';

@ObjectType({ description: 'The result of setOrganizationLimits.' })
export class SetOrganizationLimitsPayload {
  @Field(() => OrganizationModel, { description: 'The organization with its new limits.' })
  organization!: OrganizationModel;
}
