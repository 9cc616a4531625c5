import { Inject, Injectable } from '@nestjs/common';
import { preconditionFailed, VolumeState } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  type Page,
  type PageRequest,
  type SnapshotPolicyChanges,
  type SnapshotPolicyEntity,
  type SnapshotPolicyFilter,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { POLICY_CLOCK, type Clock } from './clock.js';
import type { CreateSnapshotPolicyInput } from './dto/create-snapshot-policy.input.js';
import type { UpdateSnapshotPolicyInput } from './dto/update-snapshot-policy.input.js';
import { PolicyWakeups } from './policy-wakeups.js';
import { rescheduleOnUpdate } from './rescheduling.js';
import { PolicySchedule } from './schedule.js';

/** createSnapshotPolicy, updateSnapshotPolicy, deleteSnapshotPolicy and the reads; the runs are PolicyRunner's. */
@Injectable()
export class SnapshotPoliciesService {
  constructor(
    private readonly db: Database,
    private readonly wakeups: PolicyWakeups,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(POLICY_CLOCK) private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: CreateSnapshotPolicyInput): Promise<SnapshotPolicyEntity> {
    const now = this.clock.now();
    const schedule = this.parse(input.schedule, input.timezone, now);
    const policy = await this.db.transaction(async (tx) => {
      const volume = await findWritable(principal, 'Volume', input.volumeId, (scope) =>
        tx.volumes.findById(scope, input.volumeId),
      );
      if (volume.state === VolumeState.DESTROYING) {
        throw preconditionFailed(`Volume ${volume.name} is being destroyed`);
      }
      return tx.snapshotPolicies.create({
        organizationId: volume.organizationId,
        volumeId: volume.id,
        schedule: schedule.expression,
        timezone: schedule.timezone,
        keep: input.keep,
        enabled: input.enabled ?? true,
        notify: input.notify ?? [],
        nextRunAt: schedule.next(now)!,
      });
    });
    if (policy.enabled) this.wakeups.nextRunChanged(policy.nextRunAt);
    return policy;
  }

  /**
   * A new schedule or zone, or enabling, counts the next run from now (a policy disabled for a week does not
   * catch up); keep and notify apply from the next run and prune.
   */
  async update(principal: Principal, input: UpdateSnapshotPolicyInput): Promise<SnapshotPolicyEntity> {
    const now = this.clock.now();
    const policy = await this.db.transaction(async (tx) => {
      const found = await findWritable(principal, 'SnapshotPolicy', input.snapshotPolicyId, (scope) =>
        tx.snapshotPolicies.findById(scope, input.snapshotPolicyId),
      );
      const current = (await tx.snapshotPolicies.lock(found.id))!;
      const changes: SnapshotPolicyChanges = {
        ...rescheduleOnUpdate(current, input, this.config.POLICY_MIN_INTERVAL_SECONDS, now),
      };
      if (input.enabled != null) changes.enabled = input.enabled;
      if (input.keep != null) changes.keep = input.keep;
      if (input.notify != null) changes.notify = input.notify;
      if (Object.keys(changes).length > 0) await tx.snapshotPolicies.update(current.id, changes);
      return (await tx.snapshotPolicies.findById(ALL_ORGANIZATIONS, current.id))!;
    });
    if (policy.enabled) this.wakeups.nextRunChanged(policy.nextRunAt);
    return policy;
  }

  /** The policy and its run records go; its snapshots stay, as if taken by hand (their policy reads null). */
  async delete(principal: Principal, policyId: string): Promise<SnapshotPolicyEntity> {
    return this.db.transaction(async (tx) => {
      const found = await findWritable(principal, 'SnapshotPolicy', policyId, (scope) =>
        tx.snapshotPolicies.findById(scope, policyId),
      );
      await tx.snapshotPolicies.lock(found.id);
      await tx.snapshotPolicies.remove(found.id);
      return found;
    });
  }

  list(principal: Principal, filter: SnapshotPolicyFilter, page: PageRequest): Promise<Page<SnapshotPolicyEntity>> {
    return this.db.repos.snapshotPolicies.list(readScope(principal), filter, page);
  }

  now(): Date {
    return this.clock.now();
  }

  private parse(expression: string, timezone: string, now: Date): PolicySchedule {
    return PolicySchedule.parse(expression, timezone, this.config.POLICY_MIN_INTERVAL_SECONDS, now);
  }
}
