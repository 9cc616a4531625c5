import { badInput, isUuid } from '@snapdeck/domain';
import { createHash } from 'node:crypto';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Relay's arguments: `first`/`after` forwards (newest first), `last`/`before` backwards. */
export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
  /** The cursor of one of `items`: it names this list, so another list refuses it. */
  cursorOf: (item: T) => string;
  /** Counted only when a client asks for it. */
  totalCount: () => Promise<number>;
}

const CURSOR_VERSION = 'c1';

/**
 * The identity of a list: a digest of its query before any cursor applies (the table, the tenant scope and the
 * filter), so a cursor of `snapshots` given to `volumes`, or of one volume's snapshots given to another's,
 * is refused rather than read as an empty page.
 */
export function listKey(qb: SelectQueryBuilder<ObjectLiteral>): string {
  const identity = JSON.stringify([qb.getQuery(), qb.getParameters()]);
  return createHash('sha256').update(identity).digest('base64url').slice(0, 12);
}

/** An opaque cursor: version, list, row id. */
export function encodeCursor(list: string, id: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${list}:${id}`, 'utf8').toString('base64url');
}

/** The row id a cursor points at in `list`; BAD_USER_INPUT for anything else. */
export function decodeCursor(cursor: string, list: string, argument: 'after' | 'before' = 'after'): string {
  const [version, cursorList, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (version !== CURSOR_VERSION || rest.length > 0 || id === undefined || !isUuid(id)) {
    throw badInput(`${argument} is not a valid cursor`, argument);
  }
  if (cursorList !== list) throw badInput(`${argument} is a cursor of another list`, argument);
  return id;
}

function checkedSize(value: number | null | undefined, argument: 'first' | 'last'): number {
  if (!Number.isInteger(value) || value! < 0 || value! > MAX_PAGE_SIZE) {
    throw badInput(`${argument} must be between 0 and ${MAX_PAGE_SIZE}`, argument);
  }
  return value!;
}

/** The page size and direction a request asks for: `first` (default 20) or `last`, never both; at most 100. */
export function pageShape(request: PageRequest): { size: number; backwards: boolean } {
  if (request.first != null && request.last != null) {
    throw badInput('first and last cannot be used together', 'last');
  }
  if (request.last != null) return { size: checkedSize(request.last, 'last'), backwards: true };
  return { size: request.first == null ? DEFAULT_PAGE_SIZE : checkedSize(request.first, 'first'), backwards: false };
}

/**
 * Keyset pagination, newest first, over `(filter columns…, id)` indexes: ids are UUIDv7, so the id orders
 * by creation and breaks ties. The cost of a page does not grow with how far into the list it is, in either
 * direction: backwards reads ascending from `before` and turns the rows round. Whether there is a page on the
 * other side of a cursor is one indexed EXISTS.
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  request: PageRequest,
): Promise<Page<T>> {
  const { size, backwards } = pageShape(request);
  const list = listKey(qb);
  const after = request.after ? decodeCursor(request.after, list, 'after') : null;
  const before = request.before ? decodeCursor(request.before, list, 'before') : null;
  const countQuery = qb.clone();
  const beyond = (condition: string, id: string) =>
    countQuery.clone().andWhere(`${alias}.id ${condition} :beyondId`, { beyondId: id }).getExists();

  if (after) qb.andWhere(`${alias}.id < :afterId`, { afterId: after });
  if (before) qb.andWhere(`${alias}.id > :beforeId`, { beforeId: before });
  const rows =
    size === 0
      ? []
      : await qb
          .orderBy(`${alias}.id`, backwards ? 'ASC' : 'DESC')
          .limit(size + 1)
          .getMany();
  const more = rows.length > size;
  const items = rows.slice(0, size);
  if (backwards) items.reverse();

  // Across the cursor: rows at or before `after` (newer), at or after `before` (older).
  const [hasPreviousPage, hasNextPage] = backwards
    ? [more, before ? await beyond('<=', before) : false]
    : [after ? await beyond('>=', after) : false, more];
  const cursorOf = (item: T) => encodeCursor(list, item.id);
  return {
    items,
    hasNextPage,
    hasPreviousPage,
    startCursor: items.length > 0 ? cursorOf(items[0]) : null,
    endCursor: items.length > 0 ? cursorOf(items[items.length - 1]) : null,
    cursorOf,
    totalCount: () => countQuery.getCount(),
  };
}
