import type { Database, Repositories } from '@snapdeck/persistence';
import type { FollowUpJob } from '../orchestration/appliers/job-outcome-applier.js';

/**
 * Claims and runs batches of due rows until none is left: each batch in one transaction (`claim` locks its rows
 * FOR UPDATE SKIP LOCKED, so other workers and replicas take the next ones), `handle` per row, the jobs it
 * started sent once that commits. Answers how many rows it handled.
 */
export async function drainDue<T>(
  db: Database,
  batch: number,
  claim: (tx: Repositories) => Promise<T[]>,
  handle: (tx: Repositories, row: T) => Promise<FollowUpJob[]>,
  launch: (job: FollowUpJob) => Promise<void>,
): Promise<number> {
  let handled = 0;
  for (;;) {
    const { claimed, jobs } = await db.transaction(async (tx) => {
      const due = await claim(tx);
      const started: FollowUpJob[] = [];
      for (const row of due) started.push(...(await handle(tx, row)));
      return { claimed: due.length, jobs: started };
    });
    await Promise.all(jobs.map(launch));
    handled += claimed;
    if (claimed < batch) return handled;
  }
}
