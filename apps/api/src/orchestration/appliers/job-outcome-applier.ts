import type { JobName, JobOutcome } from '@snapdeck/contracts';
import type { JobEntity, Repositories } from '@snapdeck/persistence';

/**
 * Applies an agent's outcome to the resources of one job name, inside the transaction that closes the Job
 * row. It runs at most once per job: the row was closed by a conditional update just before.
 */
export interface JobOutcomeApplier<N extends JobName = JobName> {
  readonly jobName: N;
  apply(tx: Repositories, job: JobEntity, outcome: JobOutcome<N>): Promise<void>;
}
