import {
  assertWithinLimits,
  DomainError,
  ErrorCode,
  isUuid,
  limitedResources,
  notFound,
  type UsageRequest,
} from '@snapdeck/domain';
import { organizationLimits, withEventSurvivingRollback, type Repositories } from '@snapdeck/persistence';

/** Who asked, and for which volume or instance: what the `quota.exceeded` event names. */
export interface LimitContext {
  /** A user id, or `system:scheduler`. */
  actor: string;
  volumeId?: string;
  instanceId?: string;
}

/**
 * Enforces the organization's limits for what one request adds, inside the transaction that inserts it (call it
 * after the request's row locks, right before its inserts). Resources without a limit take no lock and no
 * count; a limited one is serialized per organization and resource (an advisory lock until commit), then counted
 * from the rows, so concurrent requests never end above a limit. QUOTA_EXCEEDED names the first one passed.
 */
export async function enforceLimits(
  tx: Repositories,
  organizationId: string,
  request: UsageRequest,
  context: LimitContext,
): Promise<void> {
  const before = await tx.organizations.findById(organizationId);
  if (!before) throw notFound('Organization', organizationId);
  const limited = limitedResources(organizationLimits(before), request);
  if (limited.length === 0) return;
  await tx.organizations.lockLimits(organizationId, limited);
  // Read again under the lock: a limit changed meanwhile applies to this request already.
  const limits = organizationLimits((await tx.organizations.findById(organizationId))!);
  const used = await tx.organizations.usage(organizationId, limitedResources(limits, request));
  try {
    assertWithinLimits(limits, used, request);
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.QUOTA_EXCEEDED) {
      throw withEventSurvivingRollback(error, quotaExceededEvent(organizationId, error, context));
    }
    throw error;
  }
}

/** `quota.exceeded` on the organization, recorded after the request's rollback (the client's error unchanged). */
function quotaExceededEvent(organizationId: string, error: DomainError, context: LimitContext) {
  const { actor, ...subject } = context;
  return {
    organizationId,
    actorUserId: isUuid(actor) ? actor : null,
    type: 'quota.exceeded' as const,
    resourceType: 'Organization',
    resourceId: organizationId,
    message: error.message,
    details: { ...error.details, actor, ...subject },
  };
}
