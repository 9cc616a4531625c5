import {
  type JobName,
  type JobOutcome,
  type JobFinishedMessage,
  type JobStartedMessage,
  ResultKind,
} from '@snapdeck/contracts';
import type { JobsOptions } from 'bullmq';

/** The delivery a result answers: the Job row's id and which attempt of it this was. */
export interface ResultAddress<N extends JobName = JobName> {
  jobId: string;
  attempt: number;
  name: N;
}

export function startedMessage(address: ResultAddress, hostName: string, at: Date): JobStartedMessage {
  return { kind: ResultKind.STARTED, jobId: address.jobId, attempt: address.attempt, hostName, at: at.toISOString() };
}

export function finishedMessage<N extends JobName>(
  address: ResultAddress<N>,
  hostName: string,
  outcome: JobOutcome<N>,
  at: Date,
): JobFinishedMessage<N> {
  return {
    kind: ResultKind.FINISHED,
    jobId: address.jobId,
    attempt: address.attempt,
    hostName,
    name: address.name,
    outcome,
    at: at.toISOString(),
  };
}

/**
 * Results are removed once the api has applied them. A few retries with back-off let the api apply a result
 * after a short database outage; applying a result is idempotent anyway, since the queue may deliver a job (and
 * so its result) twice. One that still failed is removed too: its id (the result's) must be free for the outbox
 * to publish it again.
 */
export const RESULT_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
};
