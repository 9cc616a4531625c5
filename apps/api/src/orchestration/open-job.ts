import type { JobName, JobPayloads } from '@snapdeck/contracts';
import type { JobEntity, Repositories } from '@snapdeck/persistence';

/**
 * What a job works on: the resource's type and its row, or the id it will have. The row's organization is the
 * job's (null: platform work); the applier, the events and the change feed find the resource by type and id.
 */
export type JobResource = readonly [type: string, row: { id: string; organizationId: string | null }];

/**
 * Inserts the PENDING Job row of one operation in the caller's transaction: asked `by` a user (null: the
 * platform), carried out by the agent of `host`. Send it once that transaction commits
 * (JobLauncher.commitThenLaunch).
 */
export function openJob<N extends JobName>(
  tx: Repositories,
  by: { userId: string | null },
  host: { id: string },
  [resourceType, resource]: JobResource,
  type: N,
  payload: JobPayloads[N],
): Promise<JobEntity> {
  return tx.jobs.create({
    organizationId: resource.organizationId,
    type,
    hostId: host.id,
    resourceType,
    resourceId: resource.id,
    payload,
    createdByUserId: by.userId,
  });
}

/** The next step of a multi-step operation: same organization, resource and user as the job before it. */
export function openFollowUp<N extends JobName>(
  tx: Repositories,
  previous: JobEntity,
  host: { id: string },
  type: N,
  payload: JobPayloads[N],
): Promise<JobEntity> {
  const resource = { id: previous.resourceId, organizationId: previous.organizationId };
  return openJob(tx, { userId: previous.createdByUserId }, host, [previous.resourceType, resource], type, payload);
}
