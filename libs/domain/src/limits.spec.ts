import { DomainError, ErrorCode } from './errors.js';
import { assertWithinLimits, limitedResources, NO_LIMITS, parseOrganizationLimits } from './limits.js';

describe('limits', () => {
  it('a resource without a limit needs no check', () => {
    expect(limitedResources(NO_LIMITS, { snapshots: 1, snapshotGiB: 10 })).toEqual([]);
    expect(limitedResources({ ...NO_LIMITS, snapshots: 3, instances: 1 }, { snapshots: 1, snapshotGiB: 10 })).toEqual([
      'snapshots',
    ]);
  });

  it('allows reaching the limit and refuses passing it, with resource, limit, used and requested', () => {
    const limits = { ...NO_LIMITS, volumeGiB: 10 };
    expect(() => assertWithinLimits(limits, { volumeGiB: 6 }, { volumeGiB: 4 })).not.toThrow();
    let error: unknown;
    try {
      assertWithinLimits(limits, { volumeGiB: 6 }, { volumeGiB: 5 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.QUOTA_EXCEEDED);
    expect((error as DomainError).details).toEqual({ resource: 'volumeGiB', limit: 10, used: 6, requested: 5 });
  });

  it('a limit of 0 refuses everything of that resource', () => {
    expect(() => assertWithinLimits({ ...NO_LIMITS, instances: 0 }, { instances: 0 }, { instances: 1 })).toThrow(
      DomainError,
    );
  });

  it('parses DEFAULT_ORGANIZATION_LIMITS and refuses bad JSON, unknown fields and bad values', () => {
    expect(parseOrganizationLimits('{"snapshots": 10, "volumeGiB": null}')).toEqual({ ...NO_LIMITS, snapshots: 10 });
    expect(parseOrganizationLimits('{}')).toEqual(NO_LIMITS);
    expect(() => parseOrganizationLimits('{snapshots: 1')).toThrow('not valid JSON');
    expect(() => parseOrganizationLimits('{"snapshot": 1}')).toThrow('unknown field snapshot');
    expect(() => parseOrganizationLimits('{"snapshots": -1}')).toThrow('non-negative integer');
    expect(() => parseOrganizationLimits('{"snapshots": 1.5}')).toThrow('non-negative integer');
    expect(() => parseOrganizationLimits('{"snapshots": "1"}')).toThrow('non-negative integer');
    expect(() => parseOrganizationLimits('[1]')).toThrow('JSON object');
  });
});
