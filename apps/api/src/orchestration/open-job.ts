import type { JobName, JobPayloads } from '@snapdeck/contracts';
import type { JobEntity, Repositories } from '@snapdeck/persistence';

/** Whose job, on which host, about what, asked by whom: what every Job row says besides its name and payload. */
export interface JobTarget {
  /** The organization the work belongs to (null: platform work). */
  organizationId: string | null;
  /** The host whose agent carries it out. */
  host: { id: string };
  /** The resource it works on: the applier, the events and the change feed find it by this. */
  resource: { type: string; id: string };
  /** The user who asked for it (null: the platform). */
  by: string | null;
}

/** Inserts the PENDING Job row of one operation, in the caller's transaction; send it once that commits. */
export function openJob<N extends JobName>(
  tx: Repositories,
  type: N,
  target: JobTarget,
  payload: JobPayloads[N],
): Promise<JobEntity> {
  return tx.jobs.create({
    organizationId: target.organizationId,
    type,
    hostId: target.host.id,
    resourceType: target.resource.type,
    resourceId: target.resource.id,
    payload,
    createdByUserId: target.by,
  });
}

/** The next step of a multi-step operation: same organization, resource and user as the job before it. */
export function openFollowUp<N extends JobName>(
  tx: Repositories,
  previous: JobEntity,
  type: N,
  host: { id: string },
  payload: JobPayloads[N],
): Promise<JobEntity> {
  const resource = { type: previous.resourceType, id: previous.resourceId };
  return openJob(
    tx,
    type,
    { organizationId: previous.organizationId, host, resource, by: previous.createdByUserId },
    payload,
  );
}
