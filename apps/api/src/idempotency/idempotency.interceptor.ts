import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { badInput } from '@snapdeck/domain';
import {
  Database,
  IdempotencyClaim,
  IdempotencyKeyTaken,
  withIdempotencyClaim,
  type IdempotencyKeyEntity,
} from '@snapdeck/persistence';
import { Kind, OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { Principal } from '../auth/principal.js';
import type { GraphQLContext } from '../graphql/context.js';
import { fingerprintOf, IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_TTL_MS, idempotencyKeyOf } from './idempotency-key.js';
import { replayPayload } from './idempotent-replay.js';

const KEY_REUSED =
  'This Idempotency-Key was used within 24 hours for another mutation or other arguments: ' +
  'send the same request again with it, or use a new key for a new request';

/**
 * `Idempotency-Key` on a GraphQL mutation: the first request that commits records the key in its own transaction
 * (Database.transaction, through IdempotencyClaim); a retry with the same key, the same mutation and the same
 * arguments (sequential or in parallel, also after the first one's answer was lost) answers the first one's
 * resources instead of doing the work again. Per caller (the authenticated user), kept 24 h.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(Database) private readonly db: Database) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    if (info.operation.operation !== OperationTypeNode.MUTATION || info.parentType.name !== 'Mutation')
      return next.handle();
    const request = gql.getContext<GraphQLContext>();
    const key = idempotencyKeyOf(request.req.headers[IDEMPOTENCY_KEY_HEADER]);
    if (key === undefined) return next.handle();
    const rootFields = info.operation.selectionSet.selections.filter(
      (s) => s.kind !== Kind.FIELD || s.name.value !== '__typename',
    );
    if (rootFields.length !== 1) {
      throw badInput(
        'An Idempotency-Key covers one mutation: send each mutation in a request of its own',
        'Idempotency-Key',
      );
    }
    // The guard ran before interceptors: the caller is known.
    const principal = request.principal!;
    const claim = new IdempotencyClaim(
      {
        callerId: principal.userId,
        key,
        field: info.fieldName,
        fingerprint: fingerprintOf(info.fieldName, gql.getArgs()),
      },
      new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS),
    );
    return from(this.run(claim, principal, info, next));
  }

  private async run(
    claim: IdempotencyClaim,
    principal: Principal,
    info: GraphQLResolveInfo,
    next: CallHandler,
  ): Promise<unknown> {
    const earlier = await this.db.repos.idempotencyKeys.findLive(
      claim.claim.callerId,
      claim.claim.key,
      claim.liveSince,
    );
    if (earlier) return this.replay(earlier, claim, principal, info);
    try {
      return await withIdempotencyClaim(claim, () => lastValueFrom(next.handle()));
    } catch (error) {
      // Another request with this key committed first (this one waited for it): answer what that one did.
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
      const first = await this.db.repos.idempotencyKeys.findLive(
        claim.claim.callerId,
        claim.claim.key,
        claim.liveSince,
      );
      if (!first) throw error;
      return this.replay(first, claim, principal, info);
    }
  }

  private replay(row: IdempotencyKeyEntity, claim: IdempotencyClaim, principal: Principal, info: GraphQLResolveInfo) {
    if (row.field !== claim.claim.field || row.fingerprint !== claim.claim.fingerprint) {
      throw badInput(KEY_REUSED, 'Idempotency-Key');
    }
    return replayPayload(this.db.repos, principal, info.returnType, row.result);
  }
}
