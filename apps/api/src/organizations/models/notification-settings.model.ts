import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('NotificationSettings', {
  description:
    "Who is mailed for which of the organization's events, besides the addresses a policy or a backup names " +
    '(updateNotificationSettings; needs the operator to have set SMTP_URL).',
})
export class NotificationSettingsModel {
  @Field(() => [String], { description: 'The addresses mailed.' })
  emails!: string[];

  @Field(() => [String], { description: 'The event types they are mailed for; empty: all of them.' })
  events!: string[];
}
