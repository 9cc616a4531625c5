// node bench/deploy-from-template.mjs (after `npx tsc -b`) — time from the deployInstance mutation to the
// instance reading STOPPED, through GraphQL against the api and a qemu-img agent (real PostgreSQL, Redis and
// qemu-img), for a template of 1 GiB with 200 MiB written; beside a bare `qemu-img convert` of the same
// template file followed by an fsync of the copy, which is what the agent does.
// Usage: [DEPLOYS=5] node bench/deploy-from-template.mjs
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, sleep, startBenchStack } from './support/stack.mjs';

const COUNT = Number(process.env.DEPLOYS ?? 5);
const { gql, storage, primary, secondary, close } = await startBenchStack('deploy');

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
    ['-f', 'qcow2', '-c', 'write -P 0xab 0 200M', join(primary, 'volumes', `${volumeId}.qcow2`)],
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
  await close();
}
