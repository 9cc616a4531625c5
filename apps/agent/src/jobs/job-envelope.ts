import { ALL_JOB_NAMES, type JobEnvelope, type JobName } from '@snapdeck/contracts';

/** Enough of a malformed job to still report its failure to the api. */
export interface ReplyAddress {
  jobId: string;
  attempt: number;
  name: JobName;
}

export type ParsedDelivery =
  { ok: true; envelope: JobEnvelope } | { ok: false; reason: string; replyTo?: ReplyAddress };

/**
 * Checks the shape of one queue job against the JobEnvelope contract. Queue data is JSON written by another
 * process (maybe of another version), so nothing is trusted by type alone. The payload's values are checked
 * by the handler and the driver.
 */
export function parseDelivery(queueJobName: string, data: unknown): ParsedDelivery {
  if (!isRecord(data)) return { ok: false, reason: 'the job data is not an object' };
  const { jobId, attempt, name, payload } = data;
  if (typeof jobId !== 'string' || jobId.length === 0) return { ok: false, reason: 'the job has no jobId' };
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) {
    return { ok: false, reason: `job ${jobId} has no valid attempt number` };
  }
  if (!isJobName(name)) return { ok: false, reason: `job ${jobId} names an unknown operation ${JSON.stringify(name)}` };
  const replyTo: ReplyAddress = { jobId, attempt, name };
  const declared: string = name;
  if (declared !== queueJobName) {
    return { ok: false, reason: `the queue job is named "${queueJobName}" but its envelope says "${name}"`, replyTo };
  }
  if (!isRecord(payload)) return { ok: false, reason: 'the job has no payload object', replyTo };
  // The name and the payload object are checked; the handler of that name checks the payload's fields.
  return { ok: true, envelope: { jobId, attempt, name, payload } as JobEnvelope };
}

function isJobName(value: unknown): value is JobName {
  return typeof value === 'string' && (ALL_JOB_NAMES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
