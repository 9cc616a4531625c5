import type { JobName, JobOutcome } from '@snapdeck/contracts';
import type { JobEntity, JobOf, Repositories } from '@snapdeck/persistence';

/** A job created by an applier (the next step of a workflow), to be sent once the transaction commits. */
export interface FollowUpJob {
  job: JobEntity;
  hostName: string;
}

/**
 * Applies an agent's outcome to the resources of one job name, inside the transaction that closes the Job
 * row. It runs at most once per job: the row was closed by a conditional update just before. It may return
 * the next jobs of a multi-step operation. The job arrives typed by its name (`job.payload` is
 * `JobPayloads[N]`): JobResultsService picks the applier by `job.type`, the one place the name is narrowed.
 */
export interface JobOutcomeApplier<N extends JobName = JobName> {
  readonly jobName: N;
  apply(tx: Repositories, job: JobOf<N>, outcome: JobOutcome<N>): Promise<FollowUpJob[] | void>;
}
