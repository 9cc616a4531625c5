import type { Principal } from '../auth/principal.js';
import type { Loaders } from './loaders.js';

/** Per-request GraphQL context: the caller once authenticated, and request-scoped DataLoaders. */
export interface GraphQLContext {
  authorization: string | undefined;
  requestId: string;
  principal?: Principal;
  authentication?: Promise<Principal>;
  loaders: Loaders;
}
