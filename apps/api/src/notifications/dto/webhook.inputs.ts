import { Field, ID, InputType } from '@nestjs/graphql';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

@InputType({ description: 'A new webhook of your organization.' })
export class CreateWebhookInput {
  @Field({
    description:
      'Where deliveries are POSTed: http or https. Its name must not resolve to a loopback, private, link-local ' +
      'or other non-public address (unless the operator allows it).',
  })
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'The event types to deliver (e.g. snapshot.completed, policy.run.failed); absent or empty: all.',
  })
  @IsOptional()
  @IsArray({ message: 'events must be a list of event types' })
  @ArrayMaxSize(64, { message: 'events lists at most 64 types' })
  @IsString({ each: true, message: 'events must be a list of event types' })
  @MaxLength(64, { each: true, message: 'events: an event type is at most 64 characters' })
  events?: string[] | null;
}

@InputType({ description: 'What deleteWebhook takes.' })
export class DeleteWebhookInput {
  @Field(() => ID, { description: 'The webhook to delete; its pending deliveries and log go with it.' })
  @IsUUID('all', { message: 'webhookId is not a valid id' })
  webhookId!: string;
}

@InputType({ description: 'What updateNotificationSettings takes: a field left out keeps its value.' })
export class UpdateNotificationSettingsInput {
  @Field(() => [String], {
    nullable: true,
    description: 'The addresses mailed for the chosen events (at most 20); an empty list: no mail from settings.',
  })
  @IsOptional()
  @IsArray({ message: 'emails must be a list of e-mail addresses' })
  @ArrayMaxSize(100, { message: 'emails: at most 20 addresses' })
  @IsString({ each: true, message: 'emails must be a list of e-mail addresses' })
  emails?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'The event types those addresses are mailed for; empty: all of them.',
  })
  @IsOptional()
  @IsArray({ message: 'events must be a list of event types' })
  @ArrayMaxSize(64, { message: 'events lists at most 64 types' })
  @IsString({ each: true, message: 'events must be a list of event types' })
  @MaxLength(64, { each: true, message: 'events: an event type is at most 64 characters' })
  events?: string[] | null;
}
