import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedChild } from './child.js';
import { tempDir } from './cleanup.js';
import { freePortIn, waitFor } from './ports.js';
import { PrivatePostgres } from './private-postgres.js';
import { PrivateRedis } from './private-redis.js';

/**
 * The short timings every campaign runs with, so that a lost job is re-sent within seconds: the lease is what
 * "stuck" is measured against (a row still transitional after lease + reconcile interval + margin is stuck).
 */
export const TIMINGS = {
  JOB_LEASE_SECONDS: 15,
  RECONCILE_INTERVAL_SECONDS: 2,
  HOST_DOWN_AFTER_SECONDS: 10,
  AGENT_HEARTBEAT_SECONDS: 1,
} as const;

/** The api's database on the private PostgreSQL. */
export const DATABASE = 'snapdeck';

export interface FaultStackOptions {
  hosts: string[];
  driver?: 'qemu-img' | 'libvirt';
  apiEnv?: Record<string, string>;
}

/**
 * A whole installation as separate processes, every one of which a campaign may kill: a private PostgreSQL and
 * Redis, the api (`node apps/api/dist/main.js`, migrating at start) and one agent per host
 * (`node apps/agent/dist/main.js`) on real qcow2 storage in a temp folder. Nothing shared is touched.
 */
export class FaultStack {
  readonly agents = new Map<string, ManagedChild>();

  private constructor(
    readonly adminToken: string,
    readonly root: string,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly api: ManagedChild,
    readonly apiPort: number,
    private readonly options: FaultStackOptions,
  ) {}

  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const root = await tempDir('snapdeck-faults-');
    await mkdir(join(root, 'logs'));
    await mkdir(join(root, 'redis'));
    const postgres = await PrivatePostgres.create(root);
    await postgres.start();
    await postgres.query('postgres', `CREATE DATABASE ${DATABASE}`);
    const redis = await PrivateRedis.create(join(root, 'redis'));
    await redis.start();
    const apiPort = await freePortIn(25300, 25399);
    const adminToken = `faults-admin-${randomBytes(16).toString('hex')}`;
    const api = new ManagedChild({
      name: 'api',
      command: process.execPath,
      args: ['apps/api/dist/main.js'],
      cwd: process.cwd(),
      logFile: join(root, 'logs', 'api.log'),
      env: {
        DATABASE_URL: postgres.url(DATABASE),
        REDIS_URL: redis.url,
        QUEUE_PREFIX: 'faults',
        PORT: String(apiPort),
        NODE_ENV: 'production',
        SNAPDECK_ADMIN_TOKEN: adminToken,
        JOB_LEASE_SECONDS: String(TIMINGS.JOB_LEASE_SECONDS),
        RECONCILE_INTERVAL_SECONDS: String(TIMINGS.RECONCILE_INTERVAL_SECONDS),
        HOST_DOWN_AFTER_SECONDS: String(TIMINGS.HOST_DOWN_AFTER_SECONDS),
        // A guest without an OS ignores ACPI: do not wait before forcing it off.
        INSTANCE_STOP_TIMEOUT_SECONDS: '1',
        ...options.apiEnv,
      },
    });
    const stack = new FaultStack(adminToken, root, postgres, redis, api, apiPort, options);
    try {
      await stack.startApi();
      for (const host of options.hosts) await stack.startAgent(host);
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get secondaryDir(): string {
    return join(this.root, 'secondary');
  }

  storageDir(host: string): string {
    return join(this.root, 'hosts', host);
  }

  /** Starts the api and waits until `/ready` answers 200 (migrations applied, database and queue reachable). */
  async startApi(): Promise<void> {
    this.api.start();
    await waitFor(() => this.ready(), 90_000, 'the api to answer /ready').catch((error: Error) => {
      throw new Error(`${error.message}\n--- api log tail:\n${this.api.tail()}`);
    });
  }

  async restartApi(): Promise<void> {
    await this.api.kill();
    await this.startApi();
  }

  async ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(5000) });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  agent(host: string): ManagedChild {
    const agent = this.agents.get(host);
    if (!agent) throw new Error(`no agent for host ${host}`);
    return agent;
  }

  /** Starts (or starts again) the agent of `host` and waits until it serves its queue. */
  async startAgent(host: string): Promise<void> {
    let agent = this.agents.get(host);
    if (!agent) {
      agent = new ManagedChild({
        name: `agent ${host}`,
        command: process.execPath,
        args: ['apps/agent/dist/main.js'],
        cwd: process.cwd(),
        logFile: join(this.root, 'logs', `agent-${host}.log`),
        group: true,
        env: {
          REDIS_URL: this.redis.url,
          QUEUE_PREFIX: 'faults',
          AGENT_HOST_NAME: host,
          AGENT_STORAGE_DIR: this.storageDir(host),
          SECONDARY_STORAGE_DIR: this.secondaryDir,
          AGENT_DRIVER: this.options.driver ?? 'qemu-img',
          AGENT_HEARTBEAT_SECONDS: String(TIMINGS.AGENT_HEARTBEAT_SECONDS),
        },
      });
      this.agents.set(host, agent);
    }
    agent.start();
    await agent.waitForLog(/serving host/, 60_000);
  }

  /** SIGKILL of the agent, then a start: what a node's supervisor does after a crash. */
  async crashAgent(host: string): Promise<void> {
    await this.agent(host).kill();
    await this.startAgent(host);
  }

  async stop(): Promise<void> {
    for (const agent of this.agents.values()) await agent.stop();
    await this.api.stop();
    await this.redis.stop();
    await this.postgres.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
