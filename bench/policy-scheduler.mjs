// npm run bench:policies — the policy scheduler on the real stack (api with its scheduler, a simulator agent,
// real PostgreSQL and Redis):
//  1. delay from the due time to the snapshot's job being sent and to the snapshot reading COMPLETED, with
//     POLICIES (1,000) policies due in the same second;
//  2. the scheduler's idle cost with IDLE_POLICIES (100,000) policies none of which is due: the queries it sends
//     per minute (counted in this process at the pg driver), and the cost of its one poll query (EXPLAIN ANALYZE).
// Baseline: CloudStack's snapshot scheduler polls every 300 s (SNAPSHOT_POLL_INTERVAL), so a run is on average
// 150 s and at worst 300 s late whatever the load. Usage: [POLICIES=1000] [IDLE_POLICIES=100000]
// [IDLE_SECONDS=60] npm run bench:policies
import pg from 'pg';
import { median, sleep, startBenchStack } from './support/stack.mjs';

const POLICIES = Number(process.env.POLICIES ?? 1000);
const IDLE_POLICIES = Number(process.env.IDLE_POLICIES ?? 100000);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 60);
const DISKS_PER_INSTANCE = 16;

// Every query any pg client of this process sends (the api's pool is one of them), by text.
const sent = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function counted(config, ...rest) {
  sent.push(typeof config === 'string' ? config : (config?.text ?? ''));
  return query.call(this, config, ...rest);
};

const { gql, dbUrl, close } = await startBenchStack('policies', {
  agentEnv: { AGENT_DRIVER: 'simulator' },
  apiEnv: { POLICY_PRUNE_INTERVAL_SECONDS: '60', POLICY_MIN_INTERVAL_SECONDS: '1' },
});
const db = new pg.Client({ connectionString: dbUrl });
await db.connect();
const p = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

try {
  const env = await gql(`mutation { createEnvironment(input: { name: "bench" }) { environment { id } } }`);
  const environmentId = env.createEnvironment.environment.id;
  const instanceIds = [];
  for (let i = 0; i < Math.ceil(POLICIES / DISKS_PER_INSTANCE); i++) {
    const { createInstance } = await gql(
      `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } } }`,
      {
        input: {
          environmentId,
          name: `bench-${i}`,
          rootDiskSizeGiB: 1,
          dataDiskSizesGiB: Array.from({ length: DISKS_PER_INSTANCE - 1 }, () => 1),
        },
      },
    );
    instanceIds.push(createInstance.instance.id);
  }
  for (;;) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM volumes WHERE state = 'READY'`);
    if (rows[0].n >= instanceIds.length * DISKS_PER_INSTANCE) break;
    await sleep(100);
  }
  const { rows: volumes } = await db.query(`SELECT id FROM volumes ORDER BY id LIMIT $1`, [POLICIES]);

  // 0. One policy alone, every 2 s: the delay of the ordinary case (timer and poll, nothing else due).
  const lone = await gql(
    `mutation($input: CreateSnapshotPolicyInput!) { createSnapshotPolicy(input: $input) { snapshotPolicy { id } } }`,
    { input: { volumeId: volumes[0].id, schedule: '*/2 * * * * *', timezone: 'UTC', keep: 3 } },
  );
  const loneId = lone.createSnapshotPolicy.snapshotPolicy.id;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM policy_runs WHERE policy_id = $1 AND state = 'SUCCEEDED'`,
      [loneId],
    );
    if (rows[0].n >= 10) break;
    await sleep(200);
  }
  await db.query(`UPDATE snapshot_policies SET enabled = false WHERE id = $1`, [loneId]);
  await sleep(1000);
  const { rows: loneRuns } = await db.query(
    // Through the jobs: retention (keep 3) has deleted most of the snapshots by now.
    `SELECT extract(epoch FROM j.sent_at - r.scheduled_at) * 1000 AS sent_ms, extract(epoch FROM j.finished_at - r.scheduled_at) * 1000 AS completed_ms
       FROM policy_runs r JOIN jobs j ON j.resource_id = r.snapshot_id AND j.type = 'create-snapshot'
      WHERE r.policy_id = $1 AND r.state = 'SUCCEEDED'`,
    [loneId],
  );
  const loneSent = loneRuns.map((r) => Number(r.sent_ms));
  const loneDone = loneRuns.map((r) => Number(r.completed_ms));
  console.log(
    `one policy every 2 s, ${loneRuns.length} runs: due -> job sent median ${median(loneSent).toFixed(0)} ms, max ${Math.max(...loneSent).toFixed(0)} ms; ` +
      `-> job finished (snapshot COMPLETED) median ${median(loneDone).toFixed(0)} ms, max ${Math.max(...loneDone).toFixed(0)} ms (simulator: 50 ms per operation)`,
  );
  await db.query(`DELETE FROM snapshot_policies WHERE id = $1`, [loneId]);

  // 1. POLICIES policies through createSnapshotPolicy (disabled), then all set at once, in SQL, to one second (UTC,
  // daily) a few seconds ahead: creating them through GraphQL takes longer than a second.
  const started = performance.now();
  for (let i = 0; i < volumes.length; i += 20) {
    await Promise.all(
      volumes
        .slice(i, i + 20)
        .map(({ id }) =>
          gql(
            `mutation($input: CreateSnapshotPolicyInput!) { createSnapshotPolicy(input: $input) { snapshotPolicy { id } } }`,
            { input: { volumeId: id, schedule: '@daily', timezone: 'UTC', keep: 3, enabled: false } },
          ),
        ),
    );
  }
  console.log(`${volumes.length} policies created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const due = new Date(Math.ceil((Date.now() + 5_000) / 1000) * 1000);
  const schedule = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
  await db.query(`UPDATE snapshot_policies SET schedule = $1, next_run_at = $2, enabled = true`, [schedule, due]);
  console.log(`all due at ${due.toISOString()} (${schedule})`);
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM snapshots WHERE policy_id IS NOT NULL AND state = 'COMPLETED'`,
    );
    if (rows[0].n >= volumes.length) break;
    if (Date.now() > due.getTime() + 120_000) throw new Error(`only ${rows[0].n} snapshots after 120 s`);
    await sleep(200);
  }
  const { rows: timings } = await db.query(
    `SELECT extract(epoch FROM j.sent_at - $1::timestamptz) * 1000 AS sent_ms,
            extract(epoch FROM s.completed_at - $1::timestamptz) * 1000 AS completed_ms
       FROM snapshots s JOIN jobs j ON j.id = s.last_job_id WHERE s.policy_id IS NOT NULL`,
    [due],
  );
  const sentMs = timings.map((t) => Number(t.sent_ms));
  const completedMs = timings.map((t) => Number(t.completed_ms));
  if (process.env.BENCH_DEBUG) {
    const { rows: batches } = await db.query(
      `SELECT extract(epoch FROM s.created_at - $1::timestamptz) AS tx_start, count(*)::int AS n,
              extract(epoch FROM min(j.sent_at) - $1::timestamptz) AS first_sent, extract(epoch FROM max(j.sent_at) - $1::timestamptz) AS last_sent
         FROM snapshots s JOIN jobs j ON j.id = s.last_job_id WHERE s.policy_id IS NOT NULL GROUP BY s.created_at ORDER BY 1`,
      [due],
    );
    console.log(
      batches
        .map(
          (b) =>
            `tx ${Number(b.tx_start).toFixed(2)} n=${b.n} sent ${Number(b.first_sent).toFixed(2)}..${Number(b.last_sent).toFixed(2)}`,
        )
        .join('\n'),
    );
  }
  const { rows: runs } = await db.query(`SELECT state, count(*)::int AS n FROM policy_runs GROUP BY state`);
  const fmt = (xs) =>
    `median ${(median(xs) / 1000).toFixed(2)} s, p99 ${(p(xs, 0.99) / 1000).toFixed(2)} s, max ${(Math.max(...xs) / 1000).toFixed(2)} s`;
  console.log(`runs: ${runs.map((r) => `${r.state} ${r.n}`).join(', ')}; snapshots: ${timings.length}`);
  console.log(`due -> job sent:          ${fmt(sentMs)}`);
  console.log(`due -> snapshot COMPLETED: ${fmt(completedMs)}`);
  console.log(
    `baseline (a 300 s poll, CloudStack): median ~150 s, p99 ~297 s; ratio of medians ${(150_000 / median(completedMs)).toFixed(0)}x`,
  );

  // 2. IDLE_POLICIES policies, none due for hours: what the scheduler costs while nothing is due.
  await db.query(`UPDATE snapshot_policies SET enabled = false`);
  const far = new Date(Date.now() + 6 * 3600_000);
  await db.query(
    `INSERT INTO snapshot_policies (id, organization_id, volume_id, schedule, timezone, keep, enabled, next_run_at)
     SELECT gen_random_uuid(), v.organization_id, v.id, $2, 'UTC', 3, true, $3::timestamptz + (g % 3600) * interval '1 second'
       FROM generate_series(1, $1) g JOIN LATERAL (SELECT id, organization_id FROM volumes ORDER BY id OFFSET (g % $4) LIMIT 1) v ON true`,
    [IDLE_POLICIES, `0 ${far.getUTCMinutes()} ${far.getUTCHours()} * * *`, far, volumes.length],
  );
  await db.query('ANALYZE snapshot_policies');
  const { rows: count } = await db.query(`SELECT count(*)::int AS n FROM snapshot_policies WHERE enabled`);
  await sleep(2000);
  const from = sent.length;
  const window = IDLE_SECONDS * 1000;
  await sleep(window);
  const idle = sent.slice(from);
  const perMinute = (xs) => ((xs.length * 60_000) / window).toFixed(0);
  const scheduler = idle.filter((q) => /snapshot_policies|policy_runs/.test(q));
  console.log(
    `idle, ${count[0].n} enabled policies over ${IDLE_SECONDS} s: the scheduler sent ${perMinute(scheduler)} queries/min ` +
      `(the whole api: ${perMinute(idle)} queries/min, heartbeats and reconciler included)`,
  );
  const { rows: plan } = await db.query(
    `EXPLAIN (ANALYZE, FORMAT JSON) SELECT min(next_run_at) AS at FROM snapshot_policies WHERE enabled`,
  );
  const top = plan[0]['QUERY PLAN'][0];
  const nodeTypes =
    JSON.stringify(top.Plan)
      .match(/"Node Type":"[^"]+"/g)
      ?.join(' ') ?? '';
  console.log(
    `its poll query (earliest due) on ${count[0].n} rows: ${top['Execution Time'].toFixed(3)} ms (${nodeTypes})`,
  );
} finally {
  await db.end();
  await close();
}
