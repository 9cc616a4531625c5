import { TemplateState, type EventTypeValue } from '@snapdeck/domain';
import type { JobEntity, Repositories } from '@snapdeck/persistence';
import { expectMoved } from './expect-moved.js';

export interface TemplateImageEvent {
  type: EventTypeValue;
  message: string;
  details: Record<string, unknown>;
}

/** A template's image was written (READY, with its size) or not (ERROR, with the reason), and the event. */
export async function finishTemplateImage(
  tx: Repositories,
  job: JobEntity,
  outcome: { ok: true; virtualSizeBytes: number } | { ok: false; message: string },
  event: TemplateImageEvent,
): Promise<void> {
  const [to, changes] = outcome.ok
    ? [TemplateState.READY, { virtualSizeBytes: String(outcome.virtualSizeBytes) }]
    : [TemplateState.ERROR, { error: outcome.message }];
  expectMoved(job, 'template', await tx.templates.transition(job.resourceId, [TemplateState.CREATING], to, changes));
  await tx.events.record({
    organizationId: job.organizationId,
    actorUserId: job.createdByUserId,
    resourceType: 'Template',
    resourceId: job.resourceId,
    ...event,
    details: { jobId: job.id, ...event.details },
  });
}
