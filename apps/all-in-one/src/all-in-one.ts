import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { InProcessBus } from '@snapdeck/transport';
import { startAgent, type RunningAgent } from '@snapdeck/agent';
import { startApi } from '@snapdeck/api';
import { ensureDatabase } from './database.js';
import { ensureDemoTenant, type DemoTenant } from './demo-tenant.js';
import { EmbeddedPostgres } from '@snapdeck/embedded-postgres';
import { InstanceLock } from './instance-lock.js';

export interface AllInOneLog {
  log(line: string): void;
  warn(line: string): void;
}

export interface RunningAllInOne {
  graphqlUrl: string;
  adminToken: string;
  /** Undefined when it could not be made (the reason was logged). */
  demo?: DemoTenant;
  /** Where the database is: "embedded PostgreSQL in …" or the server DATABASE_URL names. */
  databaseDescription: string;
  transportDescription: string;
  driver: string;
  /** production unless NODE_ENV says otherwise. */
  nodeEnv: string;
  /** GraphiQL on the api (served from the graphiql package). */
  graphiqlUrl: string;
  /** Where the tokens are kept (only their hashes are in the database). */
  tokenFiles: { admin: string; demo: string };
  /** Stops, in order: the agent (running jobs finish and report), the api, the embedded database, the lock. */
  close(): Promise<void>;
}

/**
 * `npm start`: the api and one co-located agent in this process. With no DATABASE_URL the database is an
 * embedded PostgreSQL in the state folder; with no REDIS_URL jobs travel through memory (InProcessBus) with
 * the same Job rows, leases and reconciliation as on Redis. The state folder (SNAPDECK_HOME, `.snapdeck` by
 * default) also holds primary and secondary storage and the tokens.
 */
export async function startAllInOne(env: NodeJS.ProcessEnv, out: AllInOneLog): Promise<RunningAllInOne> {
  const home = resolve(env.SNAPDECK_HOME ?? '.snapdeck');
  await mkdir(home, { recursive: true });
  const lock = await InstanceLock.acquire(join(home, 'snapdeck.pid'));
  const stops: Array<() => Promise<void>> = [() => lock.release()];
  // Undo in reverse order; one failed step must not keep the rest from running.
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((e: unknown) => out.warn(String(e)));
  };
  try {
    let databaseUrl = env.DATABASE_URL;
    let databaseDescription: string;
    if (databaseUrl) {
      databaseDescription = `PostgreSQL at ${new URL(databaseUrl).host} (DATABASE_URL)`;
    } else {
      const dataDir = join(home, 'postgres');
      const server = await EmbeddedPostgres.start({ dataDir });
      stops.push(() => server.stop());
      databaseUrl = server.urlOf('snapdeck');
      databaseDescription = `embedded PostgreSQL, data in ${dataDir}`;
    }
    await ensureDatabase(databaseUrl);

    const bus = env.REDIS_URL ? undefined : new InProcessBus();
    const transportDescription = bus ? 'in-process (no REDIS_URL)' : `Redis at ${new URL(env.REDIS_URL!).host}`;
    const tokenFiles = { admin: join(home, 'admin-token'), demo: join(home, 'demo-token') };
    const adminToken = env.SNAPDECK_ADMIN_TOKEN ?? (await adminTokenOf(tokenFiles.admin));
    const driver = env.AGENT_DRIVER ?? (hasQemuImg() ? 'qemu-img' : 'simulator');

    const apiConfig = loadApiConfig({
      ...env,
      // Production-safe unless asked otherwise: no stack traces or schema hints in errors (NODE_ENV=development).
      NODE_ENV: env.NODE_ENV ?? 'production',
      DATABASE_URL: databaseUrl,
      SNAPDECK_ADMIN_TOKEN: adminToken,
    });
    const agentConfig = loadAgentConfig({
      ...env,
      AGENT_DRIVER: driver,
      AGENT_HOST_NAME: env.AGENT_HOST_NAME ?? 'kvm-local',
      AGENT_STORAGE_DIR: env.AGENT_STORAGE_DIR ?? join(home, 'primary'),
      SECONDARY_STORAGE_DIR: env.SECONDARY_STORAGE_DIR ?? join(home, 'secondary'),
    });

    const api: INestApplication = await startApi(apiConfig, { bus, shutdownHooks: false });
    stops.push(() => api.close());
    const agent: RunningAgent = await startAgent(agentConfig, { bus });
    stops.push(() => agent.close());

    const graphqlUrl = `${(await api.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost')}/graphql`;
    await lock.advertise(graphqlUrl);
    const demo = await ensureDemoTenant(graphqlUrl, adminToken, tokenFiles.demo).catch((error: unknown) => {
      out.warn(`No demo tenant: ${(error as Error).message}`);
      return undefined;
    });
    return {
      graphqlUrl,
      adminToken,
      demo,
      databaseDescription,
      transportDescription,
      driver,
      nodeEnv: apiConfig.NODE_ENV,
      graphiqlUrl: graphqlUrl.replace(/\/graphql$/, '/graphiql'),
      tokenFiles,
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A stable administrator token for this state folder, so scripts keep working across restarts. */
async function adminTokenOf(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const token = `sdk_admin_${randomBytes(24).toString('base64url')}`;
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

function hasQemuImg(): boolean {
  return spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
}
