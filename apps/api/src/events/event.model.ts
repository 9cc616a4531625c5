import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { EventType } from '@snapdeck/domain';
import type { EventEntity } from '@snapdeck/persistence';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';
import { GraphQLJSON } from 'graphql-type-json';
import { Connection } from '../common/connection.model.js';
import { NodeModel } from '../common/node.model.js';

/** One line of the audit trail: who did what to which resource, and how it ended. */
@ObjectType('Event', { implements: () => [NodeModel] })
export class EventModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field(() => EventType)
  type!: EventType;

  @Field()
  resourceType!: string;

  @Field(() => ID)
  resourceId!: string;

  @Field()
  message!: string;

  @Field(() => ID, { nullable: true, description: 'The user whose request this was.' })
  actorUserId!: string | null;

  @Field(() => GraphQLJSON, { nullable: true })
  details!: Record<string, unknown> | null;

  @Field()
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

@ObjectType('EventConnection')
export class EventConnection extends Connection(EventModel, 'Event') {}

@InputType()
export class EventFilter {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'resourceId is not a valid id' })
  resourceId?: string | null;

  @Field(() => EventType, { nullable: true, description: 'Only events of this type.' })
  @IsOptional()
  @IsEnum(EventType)
  type?: EventType | null;
}
