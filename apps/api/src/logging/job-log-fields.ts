import type { JobEntity } from '@snapdeck/persistence';

/** Fields of a log line about a job, so that `jobId` (or a volume's or snapshot's id) finds all of them. */
export interface JobLogFields {
  jobId: string;
  jobName: string;
  resourceType: string;
  resourceId: string;
  /** The payload's top-level ids: volumeId, snapshotId, templateId. */
  [payloadId: `${string}Id`]: string;
}

export function jobLogFields(
  job: Pick<JobEntity, 'id' | 'type' | 'resourceType' | 'resourceId' | 'payload'>,
): JobLogFields {
  const fields: JobLogFields = {
    jobId: job.id,
    jobName: job.type,
    resourceType: job.resourceType,
    resourceId: job.resourceId,
  };
  for (const [key, value] of Object.entries(job.payload ?? {})) {
    if (key.endsWith('Id') && typeof value === 'string' && !(key in fields)) fields[key as `${string}Id`] = value;
  }
  return fields;
}
