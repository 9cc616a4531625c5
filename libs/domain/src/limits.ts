import { DomainError, ErrorCode } from './errors.js';

/**
 * What an organization may hold at once (CloudStack resource limits, Cinder quotas). The names are the
 * contract's field names of OrganizationLimits and OrganizationUsage, and `resource` of QUOTA_EXCEEDED.
 */
export const LIMIT_RESOURCES = ['snapshots', 'snapshotGiB', 'instances', 'volumeGiB', 'backups', 'backupGiB'] as const;
export type LimitResource = (typeof LIMIT_RESOURCES)[number];

/** null: no limit on that resource. */
export type OrganizationLimits = Record<LimitResource, number | null>;
export type OrganizationUsage = Record<LimitResource, number>;

export const NO_LIMITS: Readonly<OrganizationLimits> = Object.freeze({
  snapshots: null,
  snapshotGiB: null,
  instances: null,
  volumeGiB: null,
  backups: null,
  backupGiB: null,
});

/** What one request would add to the organization's usage; resources it does not add to are absent. */
export type UsageRequest = Partial<Record<LimitResource, number>>;

export function isLimitResource(name: string): name is LimitResource {
  return (LIMIT_RESOURCES as readonly string[]).includes(name);
}

/** The resources of `request` that have a limit: only those need a lock and a count. */
export function limitedResources(limits: Readonly<OrganizationLimits>, request: UsageRequest): LimitResource[] {
  return LIMIT_RESOURCES.filter((r) => limits[r] != null && (request[r] ?? 0) > 0);
}

export function quotaExceeded(resource: LimitResource, limit: number, used: number, requested: number): DomainError {
  return new DomainError(
    ErrorCode.QUOTA_EXCEEDED,
    `The organization's ${resource} limit is ${limit}: ${used} in use, this request needs ${requested} more`,
    { resource, limit, used, requested },
  );
}

/** Throws QUOTA_EXCEEDED for the first limited resource that `request` would take past its limit. */
export function assertWithinLimits(
  limits: Readonly<OrganizationLimits>,
  used: Readonly<Partial<OrganizationUsage>>,
  request: UsageRequest,
): void {
  for (const resource of limitedResources(limits, request)) {
    const limit = limits[resource]!;
    const inUse = used[resource] ?? 0;
    const requested = request[resource]!;
    if (inUse + requested > limit) throw quotaExceeded(resource, limit, inUse, requested);
  }
}

/**
 * Parses DEFAULT_ORGANIZATION_LIMITS: a JSON object of the fields above, each a non-negative integer or null.
 * Throws (a start-up error) on invalid JSON, an unknown field or a bad value.
 */
export function parseOrganizationLimits(json: string): OrganizationLimits {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`must be a JSON object with the fields ${LIMIT_RESOURCES.join(', ')}`);
  }
  const limits: OrganizationLimits = { ...NO_LIMITS };
  for (const [key, v] of Object.entries(value)) {
    if (!isLimitResource(key)) throw new Error(`has an unknown field ${key} (known: ${LIMIT_RESOURCES.join(', ')})`);
    if (v !== null && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2147483647)) {
      throw new Error(`${key} must be a non-negative integer or null`);
    }
    limits[key] = v as number | null;
  }
  return limits;
}
