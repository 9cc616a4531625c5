// npm run bench:snapshot — median time from the createSnapshot mutation to the snapshot reading COMPLETED,
// measured through GraphQL against the api and a qemu-img agent (real PostgreSQL, Redis, qemu-img), beside
// a bare `qemu-img snapshot -c` on the same image, in one run. Usage: [SNAPSHOTS=30] npm run bench:snapshot
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, p90, sleep, startBenchStack } from './support/stack.mjs';

const COUNT = Number(process.env.SNAPSHOTS ?? 30);
const { gql, primary, close } = await startBenchStack('snapshot');

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
  const image = join(primary, 'volumes', `${volumeId}.qcow2`);
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
  await close();
}
