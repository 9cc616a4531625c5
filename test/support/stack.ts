import type { INestApplication } from '@nestjs/common';
import { loadAgentConfig, loadApiConfig, type AgentConfig, type ApiConfig } from '@snapdeck/config';
import { createTestDatabase } from '@snapdeck/testing';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { startAgent } from '@snapdeck/agent';
import { startApi } from '@snapdeck/api';
import { eventually, mustQuery } from './graphql-client.js';

export interface AgentHandle {
  hostName: string;
  storageDir: string;
  config: AgentConfig;
  close(): Promise<void>;
}

export interface Stack {
  url: string;
  adminToken: string;
  apiConfig: ApiConfig;
  app: INestApplication;
  agents: Map<string, AgentHandle>;
  secondaryDir: string;
  startAgent(hostName: string, overrides?: Record<string, string>): Promise<AgentHandle>;
  hostId(hostName: string): Promise<string>;
  close(): Promise<void>;
}

/** What a GraphQL helper needs of a running api: its address and the platform administrator's token. */
export type ApiTarget = Pick<Stack, 'url' | 'adminToken'>;

export interface StackOptions {
  /** Host names of the agents to start (qemu-img driver unless overridden); none for an api alone. */
  agents?: string[];
  agentEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** Where the api's and the agents' JSON log lines go; without it logs are off (E2E_LOG=1 prints them). */
  logDestination?: DestinationStream;
}

/**
 * The api and its agents in this process, on real PostgreSQL (a fresh database), real Redis (a private key
 * prefix) and real qemu-img (a private storage folder), talking GraphQL over HTTP on an ephemeral port.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const root = await mkdtemp(join(tmpdir(), 'snapdeck-e2e-'));
  // libvirt runs QEMU as libvirt-qemu, which must traverse every folder to a volume; mkdtemp makes 0700.
  if (options.agentEnv?.AGENT_DRIVER === 'libvirt') await chmod(root, 0o755);
  const prefix = `snapdeck-e2e-${randomBytes(6).toString('hex')}`;
  const adminToken = `test-admin-${randomBytes(16).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const apiConfig = loadApiConfig({
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    NODE_ENV: 'production',
    SNAPDECK_ADMIN_TOKEN: adminToken,
    ...options.apiEnv,
  });
  const logging = options.logDestination
    ? { logDestination: options.logDestination }
    : process.env.E2E_LOG
      ? {}
      : { logger: false as const };
  const app = await startApi(apiConfig, logging);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const agents = new Map<string, AgentHandle>();
  const secondaryDir = join(root, 'secondary');

  const stack: Stack = {
    url,
    adminToken,
    apiConfig,
    app,
    agents,
    secondaryDir,
    async startAgent(hostName, overrides = {}) {
      const storageDir = join(root, hostName);
      const config = loadAgentConfig({
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        AGENT_HOST_NAME: hostName,
        AGENT_STORAGE_DIR: storageDir,
        SECONDARY_STORAGE_DIR: secondaryDir,
        AGENT_DRIVER: 'qemu-img',
        AGENT_HEARTBEAT_SECONDS: '1',
        ...options.agentEnv,
        ...overrides,
      });
      const agent = await startAgent(config, logging);
      const handle: AgentHandle = { hostName, storageDir, config, close: () => agent.close() };
      agents.set(hostName, handle);
      await stack.hostId(hostName);
      return handle;
    },
    async hostId(hostName) {
      return eventually(
        async () => {
          const data = await mustQuery<{
            hosts: { edges: Array<{ node: { id: string; name: string; state: string } }> };
          }>(url, adminToken, '{ hosts(first: 100) { edges { node { id name state } } } }');
          return data.hosts.edges.find((e) => e.node.name === hostName && e.node.state === 'UP')?.node.id;
        },
        20000,
        `host ${hostName} to register`,
      );
    },
    async close() {
      for (const agent of agents.values()) await agent.close();
      await app.close();
      await database.drop();
      await rm(root, { recursive: true, force: true });
    },
  };
  for (const hostName of options.agents ?? []) await stack.startAgent(hostName);
  return stack;
}
