import type { MigrationInterface } from 'typeorm';
import { Initial1795316643468 } from './1795316643468-Initial.js';
// new migrations above

/** Every migration, oldest first. Landed migrations are never edited: a change is a new migration. */
export const MIGRATIONS: Array<new () => MigrationInterface> = [
  Initial1795316643468,
];
