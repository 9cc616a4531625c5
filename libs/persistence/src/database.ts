import { DataSource, type MigrationInterface } from 'typeorm';
import { ENTITIES } from './entities/index.js';
import { Repositories } from './repositories/index.js';

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
    extra: { max: options.poolSize ?? 10 },
  });
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

  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(new Repositories(manager)));
  }

  /** True when every migration this build knows is applied. */
  async migrationsApplied(): Promise<boolean> {
    return !(await this.dataSource.showMigrations());
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
