import { badInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Ids are UUIDs; anything else is a malformed id, answered before any query runs. */
export function assertId(value: string, field = 'id'): string {
  if (!isUuid(value)) throw badInput(`${field} is not a valid id`, field);
  return value.toLowerCase();
}
