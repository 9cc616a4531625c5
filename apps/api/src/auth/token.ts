import { createHash, randomBytes } from 'node:crypto';

const TOKEN_PREFIX = 'sdk_';

/** A new bearer secret: 32 random bytes, prefixed so a leaked one is recognisable in logs and scanners. */
export function generateTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Only this hash is stored; the secret itself is shown once. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}
