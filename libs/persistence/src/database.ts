import type { EventEmitter } from 'node:events';
import { DataSource, type MigrationInterface } from 'typeorm';
import { ENTITIES } from './entities/index.js';
import { currentIdempotencyClaim } from './idempotency.js';
import { Repositories } from './repositories/index.js';
import { eventSurvivingRollback } from './surviving-events.js';

export interface DatabaseOptions {
  url: string;
  migrations?: Array<new () => MigrationInterface>;
  /** Log every SQL statement (development only). */
  logging?: boolean;
  poolSize?: number;
}

export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: options.logging ?? false,
    extra: { max: options.poolSize ?? 10, onConnect: absorbConnectionErrors },
  });
}

/**
 * A new pooled connection can read the server's FATAL ("terminating connection due to unexpected postmaster
 * exit") in the same packet as its ReadyForQuery, after the pool has handed it out but before TypeORM's query
 * runner attaches its 'error' listener (a microtask later). An EventEmitter's 'error' with no listener throws,
 * and the api died of it (the fault suite's postmaster kill found it). This listener lives as long as the
 * connection; the pool's and TypeORM's own still drop the broken connection, and its next query fails as a
 * transient error.
 */
export function absorbConnectionErrors(connection: EventEmitter): void {
  connection.on('error', () => undefined);
}

/**
 * The api's single door to PostgreSQL: repositories on the shared manager for reads, and `transaction`
 * for work that must commit together.
 */
export class Database {
  readonly repos: Repositories;

  constructor(readonly dataSource: DataSource) {
    this.repos = new Repositories(dataSource.manager);
  }

  /**
   * Inside a mutation sent with an Idempotency-Key (withIdempotencyClaim), the first transaction that commits
   * also records the key and what the work returned, in the same commit.
   */
  async transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    try {
      return await this.transactionOnce(work);
    } catch (error) {
      await this.recordSurvivingEvent(error);
      throw error;
    }
  }

  /** The event an error carries past its rollback (withEventSurvivingRollback), in its own transaction. */
  private async recordSurvivingEvent(error: unknown): Promise<void> {
    const event = eventSurvivingRollback(error);
    if (!event) return;
    try {
      await this.dataSource.transaction((manager) => new Repositories(manager).events.record(event));
    } catch {
      // The client's answer is the original error; an outage that lost the event is not what it asked about.
    }
  }

  private async transactionOnce<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const claim = currentIdempotencyClaim();
    if (!claim?.enter()) return this.dataSource.transaction((manager) => work(new Repositories(manager)));
    try {
      const result = await this.dataSource.transaction(async (manager) => {
        const repos = new Repositories(manager);
        await claim.begin(repos);
        const done = await work(repos);
        await claim.beforeCommit(repos, done);
        return done;
      });
      claim.settle(true);
      return result;
    } catch (error) {
      claim.settle(false);
      throw error;
    }
  }

  /** True when every migration this build knows is applied. */
  async migrationsApplied(): Promise<boolean> {
    return !(await this.dataSource.showMigrations());
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
