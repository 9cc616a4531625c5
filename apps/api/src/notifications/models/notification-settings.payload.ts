import { Field, ObjectType } from '@nestjs/graphql';
import { OrganizationModel } from '../../organizations/models/organization.model.js';

@ObjectType('UpdateNotificationSettingsPayload', { description: 'What updateNotificationSettings answers.' })
export class UpdateNotificationSettingsPayload {
  @Field(() => OrganizationModel, { description: 'The organization, with its new settings.' })
  organization!: OrganizationModel;
}
