// What the end-to-end benches share: a private database, Redis prefix and storage folder, the api and one
// qemu-img agent in this process (built code: run `npx tsc -b` first), a GraphQL caller, and the statistics.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { startAgent } from '@snapdeck/agent';
import { startApi } from '@snapdeck/api';

/**
 * Starts the stack for one bench named `name` (database, prefix and folder carry it and the pid).
 * `primary` and `secondary` are the agent's storage folders; `close()` removes everything again. `apiEnv` and
 * `agentEnv` add to (or override) the api's and the agent's variables (e.g. AGENT_DRIVER: 'simulator').
 */
export async function startBenchStack(name, { apiEnv = {}, agentEnv = {} } = {}) {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `snapdeck_bench_${name}_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(server);
  dbUrl.pathname = `/${dbName}`;
  const storage = mkdtempSync(join(tmpdir(), `snapdeck-bench-${name}-`));
  const primary = join(storage, 'primary');
  const secondary = join(storage, 'secondary');
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const prefix = `snapdeck-bench-${name}-${process.pid}`;

  const api = await startApi(
    loadApiConfig({
      DATABASE_URL: dbUrl.toString(),
      QUEUE_PREFIX: prefix,
      PORT: '0',
      NODE_ENV: 'production',
      SNAPDECK_ADMIN_TOKEN: token,
      ...apiEnv,
    }),
    { logger: false },
  );
  const agent = await startAgent(
    loadAgentConfig({
      QUEUE_PREFIX: prefix,
      AGENT_HOST_NAME: 'bench',
      AGENT_STORAGE_DIR: primary,
      SECONDARY_STORAGE_DIR: secondary,
      AGENT_DRIVER: 'qemu-img',
      ...agentEnv,
    }),
    { logger: false },
  );
  const url = `${(await api.getUrl()).replace('[::1]', '127.0.0.1')}/graphql`;

  async function gql(query, variables = {}) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  async function close() {
    await agent.close();
    await api.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    rmSync(storage, { recursive: true, force: true });
  }

  return { gql, storage, primary, secondary, close, dbUrl: dbUrl.toString() };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
