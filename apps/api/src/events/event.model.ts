import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { EventType } from '@snapdeck/domain';
import type { EventEntity } from '@snapdeck/persistence';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';
import { GraphQLJSON } from 'graphql-type-json';
import { Connection } from '../common/connection.model.js';
import { NodeModel } from '../common/node.model.js';

/** One line of the audit trail: who did what to which resource, and how it ended. */
@ObjectType('Event', {
  implements: () => [NodeModel],
  description: 'One line of the audit trail: who did what to which resource, and how it ended.',
})
export class EventModel implements NodeModel {
  @Field(() => ID, { description: "The event's id." })
  id!: string;

  @Field(() => EventType, { description: 'What happened.' })
  type!: EventType;

  @Field({ description: 'The type of the resource it is about (Snapshot, Volume, Instance, …).' })
  resourceType!: string;

  @Field(() => ID, { description: 'The id of the resource it is about.' })
  resourceId!: string;

  @Field({ description: 'What happened, in words.' })
  message!: string;

  @Field(() => ID, { nullable: true, description: 'The user whose request this was.' })
  actorUserId!: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Further facts as JSON (e.g. the job id).' })
  details!: Record<string, unknown> | null;

  @Field({ description: 'When it happened.' })
  createdAt!: Date;

  static from(row: EventEntity): EventModel {
    return Object.assign(new EventModel(), {
      id: row.id,
      type: row.type as EventType,
      resourceType: row.resourceType,
      resourceId: row.resourceId,
      message: row.message,
      actorUserId: row.actorUserId,
      details: row.details,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType('EventConnection', { description: 'One page of a list of Event items (a Relay connection).' })
export class EventConnection extends Connection(EventModel, 'Event') {}

@InputType({ description: 'Which events to list.' })
export class EventFilter {
  @Field(() => ID, { nullable: true, description: 'Only events about this resource.' })
  @IsOptional()
  @IsUUID('all', { message: 'resourceId is not a valid id' })
  resourceId?: string | null;

  @Field(() => EventType, { nullable: true, description: 'Only events of this type.' })
  @IsOptional()
  @IsEnum(EventType)
  type?: EventType | null;
}
