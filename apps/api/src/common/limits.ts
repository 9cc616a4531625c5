import { assertWithinLimits, limitedResources, notFound, type UsageRequest } from '@snapdeck/domain';
import { organizationLimits, type Repositories } from '@snapdeck/persistence';

/**
 * Enforces the organization's limits for what one request adds, inside the transaction that inserts it (call it
 * after the request's row locks, right before its inserts). Resources without a limit take no lock and no
 * count; a limited one is serialized per organization and resource (an advisory lock until commit), then counted
 * from the rows, so concurrent requests never end above a limit. QUOTA_EXCEEDED names the first one passed.
 */
export async function enforceLimits(tx: Repositories, organizationId: string, request: UsageRequest): Promise<void> {
  const before = await tx.organizations.findById(organizationId);
  if (!before) throw notFound('Organization', organizationId);
  const limited = limitedResources(organizationLimits(before), request);
  if (limited.length === 0) return;
  await tx.organizations.lockLimits(organizationId, limited);
  // Read again under the lock: a limit changed meanwhile applies to this request already.
  const limits = organizationLimits((await tx.organizations.findById(organizationId))!);
  const used = await tx.organizations.usage(organizationId, limitedResources(limits, request));
  assertWithinLimits(limits, used, request);
}
