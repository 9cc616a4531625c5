import type { JobName, JobOutcome, JobPayloads } from '@snapdeck/contracts';

/** Which delivery of which Job row a handler is serving; for log lines and messages. */
export interface JobContext {
  jobId: string;
  attempt: number;
}

/**
 * Carries out one job name. A handler returns `{ ok: false, message }` for an expected failure instead of
 * throwing, and is idempotent: the same job delivered twice has the effect of one.
 */
export interface JobHandler<N extends JobName = JobName> {
  readonly jobName: N;
  /** The payload came over the wire: its shape is the contract's, but its values are checked before use. */
  handle(payload: JobPayloads[N], context: JobContext): Promise<JobOutcome<N>>;
}
