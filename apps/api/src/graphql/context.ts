import type { Database } from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { Loaders } from './loaders.js';

/**
 * Per-request GraphQL context: the caller once the guard authenticated it, and request-scoped DataLoaders.
 * A class, because Nest and Apollo may copy the context object: the loaders are built on first use from
 * whichever copy the resolvers see, after the guard has put the principal there.
 */
export class GraphQLContext {
  principal?: Principal;
  authentication?: Promise<Principal>;
  private cachedLoaders?: Loaders;

  constructor(
    readonly req: { headers: Record<string, string | string[] | undefined> },
    readonly authorization: string | undefined,
    readonly requestId: string,
    private readonly db: Database,
  ) {}

  get loaders(): Loaders {
    if (!this.principal) throw new Error('Loaders used before the request was authenticated');
    this.cachedLoaders ??= new Loaders(this.db, readScope(this.principal));
    return this.cachedLoaders;
  }

  /** A subscription keeps its context for every event: each event reads its nested rows afresh. */
  forgetLoadedRows(): void {
    this.cachedLoaders = undefined;
  }
}
