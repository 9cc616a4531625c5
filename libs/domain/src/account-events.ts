/**
 * Event.type of the audit trail for users and tokens, in one place. Each is recorded in the transaction of
 * the change, in the organization of the user concerned, with the caller as actor.
 */
export const AccountEventType = {
  /** createUser; details: { email, role }. */
  USER_CREATED: 'user.created',
  /** updateUser changed the role or disabled/enabled the user; details: { before: { role, disabled }, after }. */
  USER_UPDATED: 'user.updated',
  /** deleteUser; details: { email, role, removedTokenIds }. */
  USER_DELETED: 'user.deleted',
  /** createApiToken; details: { userId, name, expiresAt }. */
  API_TOKEN_CREATED: 'api_token.created',
  /** revokeApiToken; details: { userId, name }. */
  API_TOKEN_REVOKED: 'api_token.revoked',
} as const;

export type AccountEventType = (typeof AccountEventType)[keyof typeof AccountEventType];
