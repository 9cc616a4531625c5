import { notFound } from '@snapdeck/domain';
import type { ReadScope } from '@snapdeck/persistence';
import { readScope, writeScope, type Principal } from '../auth/principal.js';

/**
 * Finds a resource the caller may change. Anything outside the caller's write scope is NOT_FOUND, also to
 * support staff who can read it: the contract answers NOT_FOUND for whatever a caller may not act on outside
 * its organization, so a refused write looks the same whether or not the caller could have read the row.
 * (The one write support staff make from another organization's resource, createInstanceFromSnapshot, reads
 * the snapshot through the read scope on purpose: see InstancesService.createFromSnapshot.)
 */
export async function findWritable<T>(
  principal: Principal,
  resource: string,
  id: string,
  find: (scope: ReadScope) => Promise<T | null>,
): Promise<T> {
  const row = await find(writeScope(principal));
  if (!row) throw notFound(resource, id);
  return row;
}

/** Finds a resource the caller may read, or NOT_FOUND. */
export async function findReadable<T>(
  principal: Principal,
  resource: string,
  id: string,
  find: (scope: ReadScope) => Promise<T | null>,
): Promise<T> {
  const row = await find(readScope(principal));
  if (!row) throw notFound(resource, id);
  return row;
}
