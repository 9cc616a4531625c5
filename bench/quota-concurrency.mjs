// npm run bench:quota — the cost of enforcing a limit: 100 parallel createSnapshot over 100 volumes with no
// limit set (no lock, no count) against the same with a snapshots limit set (high enough that none is refused,
// so both do the same work: the difference is the per-organization lock and the count), in interleaved rounds,
// through GraphQL against the api and a qemu-img agent (real PostgreSQL, Redis, qemu-img).
// Usage: [ROUNDS=5] [PARALLEL=100] npm run bench:quota
import { loadavg } from 'node:os';
import { median, sleep, startBenchStack } from './support/stack.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const PARALLEL = Number(process.env.PARALLEL ?? 100);
const { gql, close } = await startBenchStack('quota');

try {
  const env = await gql(`mutation { createEnvironment(input: { name: "bench" }) { environment { id } } }`);
  const environmentId = env.createEnvironment.environment.id;
  const { viewer } = await gql(`{ viewer { organization { id } } }`);
  const organizationId = viewer.organization.id;

  // PARALLEL volumes: instances of a ROOT and 15 data disks of 1 GiB.
  const instanceIds = [];
  for (let i = 0; i < Math.ceil(PARALLEL / 16); i++) {
    const { createInstance } = await gql(
      `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } } }`,
      {
        input: {
          environmentId,
          name: `bench-${i}`,
          rootDiskSizeGiB: 1,
          dataDiskSizesGiB: Array.from({ length: 15 }, () => 1),
        },
      },
    );
    instanceIds.push(createInstance.instance.id);
  }
  const volumes = async () => {
    const { volumes } = await gql(`{ volumes(first: 100) { edges { node { id state } } } }`);
    return volumes.edges.map((e) => e.node);
  };
  const settled = async () => {
    for (;;) {
      const all = await volumes();
      if (all.length >= PARALLEL && all.every((v) => v.state === 'READY')) return all;
      if (all.some((v) => v.state === 'ERROR')) throw new Error('a volume failed');
      await sleep(50);
    }
  };
  const volumeIds = (await settled()).slice(0, PARALLEL).map((v) => v.id);

  const setLimit = (snapshots) =>
    gql(
      `mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { organization { id } } }`,
      { input: { organizationId, snapshots } },
    );

  async function round() {
    const start = performance.now();
    await Promise.all(
      volumeIds.map((v) =>
        gql(`mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`, { v }),
      ),
    );
    const elapsed = performance.now() - start;
    await settled(); // every snapshot COMPLETED, every volume READY again, before the next round
    return elapsed;
  }

  const times = { none: [], limit: [] };
  const loads = [];
  await setLimit(null);
  await round(); // warm-up, not counted
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of i % 2 === 0 ? ['none', 'limit'] : ['limit', 'none']) {
      await setLimit(mode === 'none' ? null : 1_000_000);
      times[mode].push(await round());
      loads.push(loadavg()[0]);
    }
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`${PARALLEL} parallel createSnapshot over ${PARALLEL} volumes, ${ROUNDS} interleaved rounds each`);
  console.log(`no limit set:       median ${median(times.none).toFixed(1)} ms (rounds: ${fmt(times.none)} ms)`);
  console.log(`snapshots limit set: median ${median(times.limit).toFixed(1)} ms (rounds: ${fmt(times.limit)} ms)`);
  console.log(`ratio limit / no limit at the median: ${(median(times.limit) / median(times.none)).toFixed(2)}`);
  console.log(
    `load average (1 min) during the rounds: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}; now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await close();
}
