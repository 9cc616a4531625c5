import type { MigrationInterface } from 'typeorm';
import { Initial1795317826154 } from './1795317826154-Initial.js';
// new migrations above

/** Every migration, oldest first. Landed migrations are never edited: a change is a new migration. */
export const MIGRATIONS: Array<new () => MigrationInterface> = [Initial1795317826154];
