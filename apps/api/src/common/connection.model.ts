import { Field, Int, ObjectType, type FieldMiddleware } from '@nestjs/graphql';
import type { Page } from '@snapdeck/persistence';

@ObjectType('PageInfo', { description: "Relay's page information of a connection." })
export class PageInfoModel {
  @Field({ description: 'More items follow the last edge (with first/after: exactly; with before: any after it).' })
  hasNextPage!: boolean;

  @Field({
    description: 'More items precede the first edge (with last/before: exactly; with after: any up to the cursor).',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: "The first edge's cursor: pass it as before for the page ahead.",
  })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "The last edge's cursor: pass it as after for the next page." })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Edge<T>[];
  pageInfo: PageInfoModel;
  /** A function, called only when the client selects totalCount. */
  totalCount: () => Promise<number>;
}

/** Counts only when the client selects totalCount: the connection carries the count as a function. */
const countOnDemand: FieldMiddleware = async (_ctx, next) => {
  const value: unknown = await next();
  return typeof value === 'function' ? (value as () => Promise<number>)() : value;
};

type Constructor<T> = abstract new (...args: never[]) => T;

/** Builds the Relay connection and edge types of one node type, e.g. SnapshotConnection / SnapshotEdge. */
export function Connection<T>(nodeType: Constructor<T>, typeName: string) {
  @ObjectType(`${typeName}Edge`, { description: `One ${typeName} of a page, with its cursor.` })
  abstract class EdgeType {
    @Field({ description: 'Where this item is in its list: pass it as after or before (this list only).' })
    cursor!: string;

    @Field(() => nodeType, { description: `The ${typeName}.` })
    node!: T;
  }

  @ObjectType(`${typeName}Connection`, { isAbstract: true })
  abstract class ConnectionType implements ConnectionShape<T> {
    @Field(() => [EdgeType], { description: 'The items of this page, in list order (newest first).' })
    edges!: Edge<T>[];

    @Field(() => PageInfoModel, { description: 'Whether more pages follow or precede, and their cursors.' })
    pageInfo!: PageInfoModel;

    @Field(() => Int, {
      middleware: [countOnDemand],
      description: 'How many items the whole list holds (counted only when selected).',
    })
    totalCount!: () => Promise<number>;
  }
  return ConnectionType;
}

/** Turns a repository page into a connection, mapping each row to its GraphQL model. */
export function toConnection<E extends { id: string }, M>(page: Page<E>, toModel: (row: E) => M): ConnectionShape<M> {
  return {
    edges: page.items.map((row) => ({ cursor: page.cursorOf(row), node: toModel(row) })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.startCursor,
      endCursor: page.endCursor,
    },
    totalCount: page.totalCount,
  };
}
