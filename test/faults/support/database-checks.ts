import type { Accepted, Campaign } from './campaign.js';
import { DATABASE, type FaultStack } from './fault-stack.js';
import { sleep } from './ports.js';
import { queuesDrained } from './queue-checks.js';

/** Every state the machines leave on their own: a row in one of these waits for a job to finish. */
export const TRANSITIONAL: Record<string, { column: string; states: string[] }> = {
  snapshots: { column: 'state', states: ['IN_PROGRESS', 'DESTROYING'] },
  volumes: { column: 'state', states: ['CREATING', 'SNAPSHOTTING', 'REVERTING', 'DESTROYING'] },
  instances: { column: 'state', states: ['CREATING', 'STARTING', 'STOPPING', 'DESTROYING'] },
  templates: { column: 'state', states: ['CREATING', 'DESTROYING'] },
  instance_snapshots: { column: 'state', states: ['IN_PROGRESS', 'DESTROYING'] },
  backups: { column: 'state', states: ['CREATING', 'DESTROYING'] },
  jobs: { column: 'status', states: ['PENDING', 'RUNNING'] },
};

const FINAL_JOB = new Set(['SUCCEEDED', 'FAILED']);

/** Rows in a transitional state now, by table (only tables with any). */
export async function transitionalRows(stack: FaultStack): Promise<Record<string, number>> {
  const parts = Object.entries(TRANSITIONAL).map(
    ([table, { column, states }]) =>
      `SELECT '${table}' AS t, count(*)::int AS n FROM ${table} WHERE ${column} IN (${states.map((s) => `'${s}'`).join(', ')})`,
  );
  const rows = await stack.postgres.query<{ t: string; n: number }>(DATABASE, parts.join(' UNION ALL '));
  return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.t, r.n]));
}

export interface JobOutcomes {
  succeeded: number;
  failed: number;
  /** Accepted requests whose job or resource is not final (or whose resource row vanished): lost work. */
  lost: string[];
}

/** What became of every accepted request, read from the database. */
export async function outcomesOf(stack: FaultStack, accepted: Accepted[]): Promise<JobOutcomes> {
  const jobs = await stack.postgres.query<{ id: string; status: string }>(
    DATABASE,
    'SELECT id, status FROM jobs WHERE id = ANY($1::uuid[])',
    [accepted.map((a) => a.jobId)],
  );
  const status = new Map(jobs.map((j) => [j.id, j.status]));
  const outcome: JobOutcomes = { succeeded: 0, failed: 0, lost: [] };
  for (const a of accepted) {
    const s = status.get(a.jobId);
    if (s === 'SUCCEEDED') outcome.succeeded += 1;
    else if (s === 'FAILED') outcome.failed += 1;
    else outcome.lost.push(`${a.kind.field} job ${a.jobId}: ${s ?? 'no row'}`);
  }
  for (const table of new Set(accepted.map((a) => a.kind.table))) {
    const mine = accepted.filter((a) => a.kind.table === table);
    const rows = await stack.postgres.query<{ id: string; state: string }>(
      DATABASE,
      `SELECT id, state FROM ${table} WHERE id = ANY($1::uuid[])`,
      [mine.map((a) => a.resourceId)],
    );
    const state = new Map(rows.map((r) => [r.id, r.state]));
    for (const a of mine) {
      const s = state.get(a.resourceId);
      if (s === undefined && !a.kind.removes) outcome.lost.push(`${a.kind.field} ${a.resourceId}: row missing`);
      if (s !== undefined && TRANSITIONAL[table].states.includes(s)) {
        outcome.lost.push(`${a.kind.field} ${a.resourceId}: still ${s}`);
      }
    }
  }
  return outcome;
}

/** Whether every accepted job is final, no row anywhere is transitional, and nothing is in flight in the queues. */
/**
 * allFinal, and still so after `quietMs` in which no job was added: a process just resumed (SIGCONT) or restarted
 * sends its late results a moment later, and the follow-up jobs they start must count as in flight, not be seen
 * half done by the checks after (CI saw two repair-storage jobs RUNNING that way).
 */
export async function settled(stack: FaultStack, campaign: Campaign, quietMs: number): Promise<boolean> {
  if (!(await allFinal(stack, campaign))) return false;
  const before = await jobCount(stack);
  await sleep(quietMs);
  return (await allFinal(stack, campaign)) && (await jobCount(stack)) === before;
}

async function jobCount(stack: FaultStack): Promise<number> {
  const [row] = await stack.postgres.query<{ n: number }>(DATABASE, 'SELECT count(*)::int AS n FROM jobs');
  return row?.n ?? 0;
}

export async function allFinal(stack: FaultStack, campaign: Campaign): Promise<boolean> {
  // The queues first: whatever is taken from them after this check is on a row already, which the next check sees.
  if (!(await queuesDrained(stack))) return false;
  if (Object.keys(await transitionalRows(stack)).length > 0) return false;
  const jobs = await stack.postgres.query<{ status: string }>(
    DATABASE,
    'SELECT status FROM jobs WHERE id = ANY($1::uuid[])',
    [campaign.accepted.map((a) => a.jobId)],
  );
  return jobs.length === campaign.accepted.length && jobs.every((j) => FINAL_JOB.has(j.status));
}

/**
 * Seconds from each fault to the moment the last job of every resource it hit finished (follow-up jobs
 * included): the campaign's time to recover is the largest. Null when something has not finished.
 */
export async function secondsToRecover(stack: FaultStack, accepted: Accepted[]): Promise<number | null> {
  const hit = accepted.filter((a) => a.faultAt !== undefined);
  if (hit.length === 0) return 0;
  const rows = await stack.postgres.query<{ resource_id: string; open: number; last: Date | null }>(
    DATABASE,
    `SELECT resource_id, count(*) FILTER (WHERE status IN ('PENDING', 'RUNNING'))::int AS open, max(finished_at) AS last
       FROM jobs WHERE resource_id = ANY($1::uuid[]) GROUP BY resource_id`,
    [hit.map((a) => a.resourceId)],
  );
  const byResource = new Map(rows.map((r) => [r.resource_id, r]));
  let worst = 0;
  for (const a of hit) {
    const row = byResource.get(a.resourceId);
    if (!row || row.open > 0 || !row.last) return null;
    worst = Math.max(worst, (row.last.getTime() - a.faultAt!) / 1000);
  }
  return Math.round(worst * 10) / 10;
}
