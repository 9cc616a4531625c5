import { badInput } from '@snapdeck/domain';
import { createHash } from 'node:crypto';

/** How long a key is remembered (Stripe's and the IETF draft's usual 24 h). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * The header's value: 1–255 printable ASCII characters (a UUID is the usual choice); absent: undefined.
 * Anything else is BAD_USER_INPUT, before anything is done.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? undefined : header.trim();
  if (!key || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw badInput('Idempotency-Key must be one value of 1 to 255 printable ASCII characters', 'Idempotency-Key');
  }
  return key;
}

/** JSON with object keys sorted at every level, so equal arguments give equal text whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a key is bound to: the mutation field and its arguments. */
export function fingerprintOf(field: string, args: unknown): string {
  return createHash('sha256')
    .update(`${field}\n${canonical(args)}`)
    .digest('hex');
}
