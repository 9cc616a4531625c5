// node bench/deploy-from-template.mjs (after `npx tsc -b`) — time from the deployInstance mutation to the
// instance reading STOPPED, through GraphQL against the api and a qemu-img agent (real PostgreSQL, Redis and
// qemu-img), for a template of 1 GiB with 200 MiB written; beside a bare `qemu-img convert` of the same
// template file followed by an fsync of the copy, which is what the agent does.
// Usage: [DEPLOYS=5] node bench/deploy-from-template.mjs
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { startAgent } from '../apps/agent/dist/bootstrap.js';
import { startApi } from '../apps/api/dist/bootstrap.js';

const COUNT = Number(process.env.DEPLOYS ?? 5);
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `snapdeck_bench_deploy_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(server);
dbUrl.pathname = `/${dbName}`;
const storage = mkdtempSync(join(tmpdir(), 'snapdeck-bench-deploy-'));
const secondary = join(storage, 'secondary');
const token = `bench-${randomBytes(16).toString('hex')}`;
const prefix = `snapdeck-bench-deploy-${process.pid}`;

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
    AGENT_STORAGE_DIR: join(storage, 'primary'),
    SECONDARY_STORAGE_DIR: secondary,
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

/** Polls `field(id)` until its state is `state`; ERROR fails the run. */
async function waitFor(field, id, state, pause = 2) {
  for (;;) {
    const data = await gql(`query($id: ID!) { ${field}(id: $id) { state } }`, { id });
    if (data[field].state === state) return;
    if (data[field].state === 'ERROR') throw new Error(`${field} ${id} failed`);
    await sleep(pause);
  }
}

try {
  const env = await gql(`mutation { createEnvironment(input: { name: "bench" }) { environment { id } } }`);
  const environmentId = env.createEnvironment.environment.id;
  const created = await gql(
    `mutation($e: ID!) { createInstance(input: { environmentId: $e, name: "golden", rootDiskSizeGiB: 1 }) { instance { id } } }`,
    { e: environmentId },
  );
  const instanceId = created.createInstance.instance.id;
  await waitFor('instance', instanceId, 'STOPPED', 20);
  const { instance } = await gql(`query($id: ID!) { instance(id: $id) { volumes { id } } }`, { id: instanceId });
  const volumeId = instance.volumes[0].id;
  // 200 MiB of data in the golden image, written while the instance is STOPPED.
  execFileSync(
    'qemu-io',
    ['-f', 'qcow2', '-c', 'write -P 0xab 0 200M', join(storage, 'primary', 'volumes', `${volumeId}.qcow2`)],
    {
      stdio: 'ignore',
    },
  );
  const snap = await gql(`mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`, {
    v: volumeId,
  });
  await waitFor('snapshot', snap.createSnapshot.snapshot.id, 'COMPLETED', 20);
  const tpl = await gql(
    `mutation($s: ID!) { createTemplateFromSnapshot(input: { snapshotId: $s, name: "golden" }) { template { id } } }`,
    { s: snap.createSnapshot.snapshot.id },
  );
  const templateId = tpl.createTemplateFromSnapshot.template.id;
  await waitFor('template', templateId, 'READY', 20);

  // Interleaved, each after a `sync`: 200 MiB written per copy leaves dirty pages behind, and whichever copy
  // came next would otherwise pay for the previous one's writeback.
  const viaApi = [];
  const bare = [];
  for (let i = 0; i < COUNT; i++) {
    execFileSync('sync');
    let start = performance.now();
    const { deployInstance } = await gql(
      `mutation($t: ID!, $e: ID!, $n: String!) { deployInstance(input: { templateId: $t, environmentId: $e, name: $n }) { instance { id } } }`,
      { t: templateId, e: environmentId, n: `web-${i}` },
    );
    await waitFor('instance', deployInstance.instance.id, 'STOPPED');
    viaApi.push(performance.now() - start);

    execFileSync('sync');
    start = performance.now();
    execFileSync('qemu-img', [
      'convert',
      '-f',
      'qcow2',
      '-O',
      'qcow2',
      join(secondary, 'templates', `${templateId}.qcow2`),
      join(storage, `bare-${i}.qcow2`),
    ]);
    // The agent makes its copy durable before it reports; so does the comparison.
    execFileSync('sync', [join(storage, `bare-${i}.qcow2`)]);
    bare.push(performance.now() - start);
  }

  const fmt = (xs) =>
    `median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(`template: 1 GiB qcow2 with 200 MiB written; ${COUNT} deployments each way, interleaved, one host`);
  console.log(`deployInstance -> STOPPED (GraphQL, api, Redis, agent, qemu-img): ${fmt(viaApi)}`);
  console.log(`bare qemu-img convert of the template file + fsync of the copy: ${fmt(bare)}`);
  console.log(
    `overhead of the platform at the median:                        ${(median(viaApi) - median(bare)).toFixed(1)} ms`,
  );
} finally {
  await agent.close();
  await api.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(storage, { recursive: true, force: true });
}
