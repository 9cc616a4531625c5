import { policyRunMachine, type PolicyRunState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { PolicyRunEntity } from '../entities/policy-run.entity.js';
import { newId } from '../ids.js';
import { conditionalTransition } from '../transition.js';

export interface NewPolicyRun {
  policyId: string;
  organizationId: string;
  scheduledAt: Date;
  state: PolicyRunState;
  snapshotId?: string | null;
  error?: string | null;
  finishedAt?: Date | null;
}

export type PolicyRunChanges = Partial<Pick<PolicyRunEntity, 'snapshotId' | 'attempts' | 'error' | 'finishedAt'>>;

/** Internal (the scheduler and the snapshot applier): runs are read through their policy, already scoped. */
export class PolicyRunRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Inserts the run of one occurrence; false (and nothing inserted) when that occurrence has its run already. */
  async insertOnce(values: NewPolicyRun): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(PolicyRunEntity)
      .values({ id: newId(), snapshotId: null, error: null, finishedAt: null, attempts: 1, ...values })
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length === 1;
  }

  findOccurrence(policyId: string, scheduledAt: Date): Promise<PolicyRunEntity | null> {
    return this.manager.findOneBy(PolicyRunEntity, { policyId, scheduledAt });
  }

  findBySnapshot(snapshotId: string): Promise<PolicyRunEntity | null> {
    return this.manager.findOneBy(PolicyRunEntity, { snapshotId });
  }

  /** Every run of one policy, oldest occurrence first (tests and the bench read them). */
  listOfPolicy(policyId: string): Promise<PolicyRunEntity[]> {
    return this.manager.find(PolicyRunEntity, { where: { policyId }, order: { scheduledAt: 'ASC' } });
  }

  /** Another failed attempt of a FAILED run (no change of state). */
  async record(id: string, changes: PolicyRunChanges): Promise<void> {
    await this.manager.update(PolicyRunEntity, { id }, changes);
  }

  transition(
    id: string,
    from: readonly PolicyRunState[],
    to: PolicyRunState,
    changes: PolicyRunChanges = {},
  ): Promise<boolean> {
    return conditionalTransition(this.manager, PolicyRunEntity, policyRunMachine, id, from, to, changes);
  }
}
