import { templateMachine, type TemplateState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { TemplateEntity } from '../entities/template.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import type { ReadScope } from '../scope.js';
import { conditionalRemove, conditionalTransition } from '../transition.js';

export interface NewTemplate {
  id?: string;
  organizationId: string;
  name: string;
  description: string | null;
  state: TemplateState;
  public: boolean;
  sourceSnapshotId: string | null;
  lastJobId: string | null;
}

export type TemplateChanges = Partial<Pick<TemplateEntity, 'error' | 'virtualSizeBytes' | 'lastJobId'>>;

/** Templates an organization sees are its own and the public ones; platform staff see all. */
export class TemplateRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(values: NewTemplate): Promise<TemplateEntity> {
    return this.manager.save(
      this.manager.create(TemplateEntity, { ...values, id: values.id ?? newId(), error: null, virtualSizeBytes: null }),
    );
  }

  /** A template the scope may use: owned, or public. */
  findVisible(scope: ReadScope, id: string): Promise<TemplateEntity | null> {
    return this.visible(scope).andWhere('t.id = :id', { id }).getOne();
  }

  /** A template the scope owns (what it may change or delete). */
  findOwned(scope: ReadScope, id: string): Promise<TemplateEntity | null> {
    const qb = this.manager.createQueryBuilder(TemplateEntity, 't').where('t.id = :id', { id });
    if (scope.kind === 'organization') qb.andWhere('t.organization_id = :org', { org: scope.organizationId });
    return qb.getOne();
  }

  /** Locks one template row (`share` for a deployment, `update` for a delete), as the snapshot lock does. */
  lock(id: string, mode: 'share' | 'update'): Promise<TemplateEntity | null> {
    return this.manager
      .createQueryBuilder(TemplateEntity, 't')
      .setLock(mode === 'share' ? 'pessimistic_read' : 'pessimistic_write')
      .where('t.id = :id', { id })
      .getOne();
  }

  list(scope: ReadScope, page: PageRequest): Promise<Page<TemplateEntity>> {
    return paginate(this.visible(scope), 't', page);
  }

  existsCreatingFromSnapshot(snapshotId: string, creating: TemplateState): Promise<boolean> {
    return this.manager.existsBy(TemplateEntity, { sourceSnapshotId: snapshotId, state: creating });
  }

  transition(
    id: string,
    from: readonly TemplateState[],
    to: TemplateState,
    changes: TemplateChanges = {},
  ): Promise<boolean> {
    return conditionalTransition(this.manager, TemplateEntity, templateMachine, id, from, to, changes);
  }

  async remove(id: string, fromState: TemplateState): Promise<boolean> {
    return (await conditionalRemove(this.manager, TemplateEntity, [id], [fromState])) === 1;
  }

  private visible(scope: ReadScope) {
    const qb = this.manager.createQueryBuilder(TemplateEntity, 't');
    if (scope.kind === 'organization') {
      qb.andWhere('(t.organization_id = :scopeOrganizationId OR t.public)', {
        scopeOrganizationId: scope.organizationId,
      });
    }
    return qb;
  }
}
