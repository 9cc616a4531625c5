import { AsyncLocalStorage } from 'node:async_hooks';
import { ENTITIES, IdempotencyKeyEntity, type IdempotentResult } from './entities/index.js';
import type { IdempotencyKeyClaim } from './repositories/idempotency-key.repository.js';
import type { Repositories } from './repositories/index.js';

/**
 * The rows a mutation may answer, by the type name a replay looks them up with: each entity's GraphQL type is its
 * class name without `Entity`, so a new entity is covered without a list here to keep up.
 */
const RESOURCE_TYPES = new Map<abstract new () => unknown, string>(
  ENTITIES.filter((entity) => entity !== IdempotencyKeyEntity).map((entity) => [
    entity,
    entity.name.replace(/Entity$/, ''),
  ]),
);

/**
 * The entity rows in what a transaction's work returned (a row, `{ operation: { snapshot, job }, … }`, arrays):
 * what the mutation's payload is made of, found without each mutation saying so.
 */
export function resultOf(value: unknown): IdempotentResult {
  const entities: IdempotentResult['entities'] = [];
  const seen = new Set<string>();
  const visit = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null || depth > 3) return;
    if (Array.isArray(node)) return node.forEach((item) => visit(item, depth + 1));
    const type = RESOURCE_TYPES.get(node.constructor as abstract new () => unknown);
    if (type) {
      const id = (node as { id?: unknown }).id;
      if (typeof id === 'string' && !seen.has(`${type}:${id}`)) {
        seen.add(`${type}:${id}`);
        entities.push({ type, id });
      }
      return;
    }
    if (node.constructor !== Object) return;
    for (const child of Object.values(node)) visit(child, depth + 1);
  };
  visit(value, 0);
  return { entities };
}

/** The key was taken by a transaction that committed: replay its result instead of doing the work again. */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('Idempotency-Key already used');
    this.name = 'IdempotencyKeyTaken';
  }
}

/**
 * One request's Idempotency-Key, recorded by the first transaction of the request that commits
 * (Database.transaction asks for it through the request's async context): the key row is that transaction's
 * first statement and its result the last, so key and work commit together or not at all.
 */
export class IdempotencyClaim {
  private state: 'open' | 'in-transaction' | 'recorded' = 'open';

  constructor(
    readonly claim: IdempotencyKeyClaim,
    /** Rows older than this are expired: the key is free again. */
    readonly liveSince: Date,
  ) {}

  get recorded(): boolean {
    return this.state === 'recorded';
  }

  /** Called by a transaction as it starts; true when this transaction carries the key. */
  enter(): boolean {
    if (this.state !== 'open') return false;
    this.state = 'in-transaction';
    return true;
  }

  async begin(tx: Repositories): Promise<void> {
    if (!(await tx.idempotencyKeys.claim(this.claim, this.liveSince))) throw new IdempotencyKeyTaken();
  }

  async beforeCommit(tx: Repositories, workResult: unknown): Promise<void> {
    await tx.idempotencyKeys.recordResult(this.claim.callerId, this.claim.key, resultOf(workResult));
  }

  /** After the transaction: recorded when it committed, open again (for a later transaction) when not. */
  settle(committed: boolean): void {
    this.state = committed ? 'recorded' : 'open';
  }
}

const CURRENT = new AsyncLocalStorage<IdempotencyClaim>();

/** Runs a request's work with its key: the first transaction in it that commits records the key. */
export function withIdempotencyClaim<T>(claim: IdempotencyClaim, work: () => Promise<T>): Promise<T> {
  return CURRENT.run(claim, work);
}

export function currentIdempotencyClaim(): IdempotencyClaim | undefined {
  return CURRENT.getStore();
}
