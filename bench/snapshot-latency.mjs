// npm run bench:snapshot — median time from the createSnapshot mutation to the snapshot reading COMPLETED,
// measured through GraphQL against the api and a qemu-img agent (real PostgreSQL, Redis, qemu-img), beside
// a bare `qemu-img snapshot -c` on the same image, in one run. Usage: [SNAPSHOTS=30] npm run bench:snapshot
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { startAgent } from '../apps/agent/dist/bootstrap.js';
import { startApi } from '../apps/api/dist/bootstrap.js';

const COUNT = Number(process.env.SNAPSHOTS ?? 30);
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `snapdeck_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(server);
dbUrl.pathname = `/${dbName}`;
const storage = mkdtempSync(join(tmpdir(), 'snapdeck-bench-'));
const token = `bench-${randomBytes(16).toString('hex')}`;
const prefix = `snapdeck-bench-${process.pid}`;

const api = await startApi(
  loadApiConfig({
    DATABASE_URL: dbUrl.toString(),
    QUEUE_PREFIX: prefix,
    PORT: '0',
    NODE_ENV: 'production',
    SNAPDECK_ADMIN_TOKEN: token,
  }),
  { logger: false },
);
const agent = await startAgent(
  loadAgentConfig({
    QUEUE_PREFIX: prefix,
    AGENT_HOST_NAME: 'bench',
    AGENT_STORAGE_DIR: storage,
    SECONDARY_STORAGE_DIR: join(storage, 'secondary'),
    AGENT_DRIVER: 'qemu-img',
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

try {
  const env = await gql(`mutation { createEnvironment(input: { name: "bench" }) { environment { id } } }`);
  const created = await gql(
    `mutation($e: ID!) { createInstance(input: { environmentId: $e, name: "bench-1", rootDiskSizeGiB: 1 }) { instance { id } } }`,
    { e: env.createEnvironment.environment.id },
  );
  let volumeId;
  for (;;) {
    const { instance } = await gql(`query($id: ID!) { instance(id: $id) { state volumes { id } } }`, {
      id: created.createInstance.instance.id,
    });
    if (instance.state === 'STOPPED') {
      volumeId = instance.volumes[0].id;
      break;
    }
    await sleep(20);
  }
  const image = join(storage, 'volumes', `${volumeId}.qcow2`);
  // 200 MiB of data, so the snapshots are of a volume with content.
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 200M', image], { stdio: 'ignore' });

  const viaApi = [];
  for (let i = 0; i < COUNT; i++) {
    const start = performance.now();
    const { createSnapshot } = await gql(
      `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`,
      { v: volumeId },
    );
    for (;;) {
      const { snapshot } = await gql(`query($id: ID!) { snapshot(id: $id) { state } }`, {
        id: createSnapshot.snapshot.id,
      });
      if (snapshot.state === 'COMPLETED') break;
      if (snapshot.state === 'ERROR') throw new Error('snapshot failed');
      await sleep(2);
    }
    viaApi.push(performance.now() - start);
  }

  const bare = [];
  for (let i = 0; i < COUNT; i++) {
    const start = performance.now();
    execFileSync('qemu-img', ['snapshot', '-c', `bare-${i}`, image]);
    bare.push(performance.now() - start);
  }

  const fmt = (xs) =>
    `median ${median(xs).toFixed(1)} ms, p90 ${p90(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms`;
  console.log(`volume: 1 GiB qcow2 with 200 MiB written; ${COUNT} snapshots each way`);
  console.log(`createSnapshot -> COMPLETED (GraphQL, api, Redis, agent, qemu-img): ${fmt(viaApi)}`);
  console.log(`bare qemu-img snapshot -c on the same image:                     ${fmt(bare)}`);
  console.log(
    `overhead of the platform at the median:                          ${(median(viaApi) - median(bare)).toFixed(1)} ms`,
  );
} finally {
  await agent.close();
  await api.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(storage, { recursive: true, force: true });
}
