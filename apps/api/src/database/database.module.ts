import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { MIGRATIONS } from '@snapdeck/migrations';
import { createDataSource, Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';

async function openDatabase(config: ApiConfig): Promise<Database> {
  const dataSource = createDataSource({ url: config.DATABASE_URL, migrations: MIGRATIONS });
  await dataSource.initialize();
  if (config.MIGRATIONS_RUN) {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) new Logger('Database').log(`Applied ${applied.length} migration(s)`);
  }
  return new Database(dataSource);
}

/** The one PostgreSQL connection pool of the api, migrated at start-up unless MIGRATIONS_RUN=false. */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(Database) private readonly db: Database) {}

  static forRoot(): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: Database, inject: [API_CONFIG], useFactory: openDatabase }],
      exports: [Database],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.db.dataSource.isInitialized) await this.db.dataSource.destroy();
  }
}
