import { v7 as uuidv7 } from 'uuid';

/**
 * New primary keys are UUIDv7: time-ordered, so `ORDER BY id DESC` is newest first and the id alone is a
 * unique keyset cursor.
 */
export function newId(): string {
  return uuidv7();
}
