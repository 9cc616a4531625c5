import { forbidden, notFound, Permission } from '@snapdeck/domain';
import type { ReadScope } from '@snapdeck/persistence';
import { can, readScope, writeScope, type Principal } from '../auth/principal.js';

/**
 * Finds a resource the caller may change. Another organization's resource is NOT_FOUND (its existence does
 * not leak), except to support staff who can already read it: to them it is FORBIDDEN, which is the truth.
 */
export async function findWritable<T>(
  principal: Principal,
  resource: string,
  id: string,
  find: (scope: ReadScope) => Promise<T | null>,
): Promise<T> {
  const row = await find(writeScope(principal));
  if (row) return row;
  if (can(principal, Permission.READ_ALL_ORGANIZATIONS) && (await find(readScope(principal)))) {
    throw forbidden(`Your role (${principal.role}) may not change a ${resource} of another organization`);
  }
  throw notFound(resource, id);
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
