import { Field, Int, ObjectType, type FieldMiddleware } from '@nestjs/graphql';
import type { Page } from '@snapdeck/persistence';
import { encodeCursor } from '@snapdeck/persistence';

@ObjectType('PageInfo')
export class PageInfoModel {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
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
  @ObjectType(`${typeName}Edge`)
  abstract class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${typeName}Connection`, { isAbstract: true })
  abstract class ConnectionType implements ConnectionShape<T> {
    @Field(() => [EdgeType])
    edges!: Edge<T>[];

    @Field(() => PageInfoModel)
    pageInfo!: PageInfoModel;

    @Field(() => Int, { middleware: [countOnDemand] })
    totalCount!: () => Promise<number>;
  }
  return ConnectionType;
}

/** Turns a repository page into a connection, mapping each row to its GraphQL model. */
export function toConnection<E extends { id: string }, M>(page: Page<E>, toModel: (row: E) => M): ConnectionShape<M> {
  return {
    edges: page.items.map((row) => ({ cursor: encodeCursor(row.id), node: toModel(row) })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: page.totalCount,
  };
}
