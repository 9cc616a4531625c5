import { badInput, isUuid } from '@snapdeck/domain';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** Counted only when a client asks for it. */
  totalCount: () => Promise<number>;
}

export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) throw badInput('after is not a valid cursor', 'after');
  return id;
}

export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return first;
}

/**
 * Keyset pagination, newest first, over `(filter columns…, id)` indexes: ids are UUIDv7, so the id orders
 * by creation and breaks ties. The cost of a page does not grow with how far into the list it is.
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  request: PageRequest,
): Promise<Page<T>> {
  const size = pageSize(request.first);
  const countQuery = qb.clone();
  const after = request.after ? decodeCursor(request.after) : null;
  if (after) qb.andWhere(`${alias}.id < :afterId`, { afterId: after });
  const rows =
    size === 0
      ? []
      : await qb
          .orderBy(`${alias}.id`, 'DESC')
          .limit(size + 1)
          .getMany();
  const items = rows.slice(0, size);
  const last = items.at(-1);
  return {
    items,
    hasNextPage: rows.length > size,
    endCursor: last ? encodeCursor(last.id) : null,
    totalCount: () => countQuery.getCount(),
  };
}
