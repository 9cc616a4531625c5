import { Field, ID, ObjectType } from '@nestjs/graphql';
import { organizationLimits, type OrganizationEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { NotificationSettingsModel } from './notification-settings.model.js';
import { OrganizationLimitsModel } from './organization-limits.model.js';

@ObjectType('Organization', {
  implements: () => [NodeModel],
  description: 'A tenant: its users, environments and everything in them.',
})
export class OrganizationModel implements NodeModel {
  @Field(() => ID, { description: "The organization's id." })
  id!: string;

  @Field({ description: "The organization's name, unique on the platform." })
  name!: string;

  @Field({ description: 'When the organization was made.' })
  createdAt!: Date;

  @Field(() => OrganizationLimitsModel, {
    description: 'What the organization may hold at once; a platform administrator sets them (setOrganizationLimits).',
  })
  limits!: OrganizationLimitsModel;

  @Field(() => NotificationSettingsModel, {
    description: 'Who is mailed for which events; an ORG_ADMIN changes it (updateNotificationSettings).',
  })
  notificationSettings!: NotificationSettingsModel;

  static from(row: OrganizationEntity): OrganizationModel {
    return Object.assign(new OrganizationModel(), {
      id: row.id,
      name: row.name,
      createdAt: row.createdAt,
      limits: Object.assign(new OrganizationLimitsModel(), organizationLimits(row)),
      notificationSettings: Object.assign(new NotificationSettingsModel(), {
        emails: row.notificationEmails ?? [],
        events: row.notificationEvents ?? [],
      }),
    });
  }
}

@ObjectType('OrganizationConnection', { description: 'One page of a list of Organization items (a Relay connection).' })
export class OrganizationConnection extends Connection(OrganizationModel, 'Organization') {}
