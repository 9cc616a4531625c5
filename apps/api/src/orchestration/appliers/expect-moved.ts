import { Logger } from '@nestjs/common';
import type { JobEntity } from '@snapdeck/persistence';
import { jobLogFields } from '../../logging/job-log-fields.js';

const logger = new Logger('JobOutcomeApplier');

/**
 * An applier's move (or removal) that must change `expected` rows: the job left the resource in the state it
 * moves from, and only this job moves it on. Anything else means a resource was not where its job left it; the
 * job still closes (as it always did), but the line says which rows, at error level.
 */
export function expectMoved(job: JobEntity, what: string, moved: boolean | number, expected = 1): void {
  const count = typeof moved === 'boolean' ? Number(moved) : moved;
  if (count === expected) return;
  logger.error({
    msg: `job ${job.id} (${job.type}) moved ${count} of ${expected} ${what}: not in the state the job left them in`,
    ...jobLogFields(job),
    moved: count,
    expected,
  });
}
