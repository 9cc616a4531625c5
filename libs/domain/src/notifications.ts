import { badInput } from './errors.js';
import { EventType } from './events.js';

/**
 * The event types that leave Snapdeck (webhooks, e-mail): the contract's list. Recording one of these also writes
 * its outbox rows in the same transaction; every other event stays in the audit trail only.
 */
export const NOTIFIABLE_EVENT_TYPES = [
  EventType.SNAPSHOT_COMPLETED,
  EventType.SNAPSHOT_FAILED,
  EventType.SNAPSHOT_DELETED,
  EventType.POLICY_RUN_FAILED,
  EventType.POLICY_RUN_SKIPPED,
  EventType.POLICY_RUN_MISSED,
  EventType.BACKUP_COMPLETED,
  EventType.BACKUP_FAILED,
  EventType.RESTORE_COMPLETED,
  EventType.RESTORE_FAILED,
  EventType.QUOTA_EXCEEDED,
] as const satisfies readonly EventType[];

/** A notifiable type as the code and the payload write it (a string such as `snapshot.completed`). */
export type NotifiableEventType = `${(typeof NOTIFIABLE_EVENT_TYPES)[number]}`;

/** The actor of what the scheduler does on its own (policy runs): no user id. */
export const SYSTEM_SCHEDULER_ACTOR = 'system:scheduler';

export function isNotifiable(type: string): type is NotifiableEventType {
  return (NOTIFIABLE_EVENT_TYPES as readonly string[]).includes(type);
}

/** A subscription's list of types: empty means every notifiable type (the contract). */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.length === 0 || events.includes(type);
}

/**
 * A list of event types from a client, deduplicated in the contract's order; an unknown one is BAD_USER_INPUT
 * naming `field`. Absent or empty: [] (every type).
 */
export function parseEventTypes(events: readonly string[] | null | undefined, field = 'events'): NotifiableEventType[] {
  const given = events ?? [];
  const unknown = given.filter((e) => !isNotifiable(e));
  if (unknown.length > 0) {
    throw badInput(
      `${field}: unknown event type(s) ${unknown.map((e) => JSON.stringify(e)).join(', ')}; known: ${NOTIFIABLE_EVENT_TYPES.join(', ')}`,
      field,
    );
  }
  return NOTIFIABLE_EVENT_TYPES.filter((t) => given.includes(t));
}

/** A resource named in a notification: its id and, when it still exists (or the event kept it), its name. */
export interface NamedResource {
  id: string;
  name: string | null;
}

/** `data` of a delivery: what happened, to what, by whom, and how it ended. */
export interface NotificationData {
  /** A user id, or `system:scheduler`; null when nobody (the api itself) did it. */
  actor: string | null;
  resource: { type: string; id: string; name: string | null };
  snapshot?: NamedResource;
  volume?: NamedResource;
  instance?: NamedResource;
  policy?: NamedResource;
  scheduledAt?: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'missed' | 'refused';
  error: string | null;
  message: string;
  /** The event's own details, minus the addresses to notify (those are not the receiver's business). */
  details: Record<string, unknown>;
}

/** The body of one webhook delivery, and what a mail renders: `id` is the event's id, the receiver's dedupe key. */
export interface NotificationPayload {
  id: string;
  type: NotifiableEventType;
  /** RFC 3339, UTC. */
  time: string;
  organizationId: string;
  data: NotificationData;
}

export function notificationStatus(type: NotifiableEventType): NotificationData['status'] {
  if (type === 'quota.exceeded') return 'refused';
  if (type.endsWith('.skipped')) return 'skipped';
  if (type.endsWith('.missed')) return 'missed';
  if (type.endsWith('.failed')) return 'failed';
  return 'succeeded';
}

/** The e-mail addresses an event names itself (a policy's or a backup's `notify`), deduplicated, lower-cased. */
export function notifyAddresses(details: Record<string, unknown> | null | undefined): string[] {
  const notify = details?.['notify'];
  if (!Array.isArray(notify)) return [];
  return uniqueAddresses(notify.filter((a): a is string => typeof a === 'string'));
}

export function uniqueAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map((a) => a.trim().toLowerCase()).filter((a) => a.length > 0))];
}

/** A deliberately plain check (one @, a dot in the domain, no spaces): the SMTP server has the last word. */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** At most this many addresses in an organization's settings: a mail is one message to all of them. */
export const MAX_NOTIFICATION_EMAILS = 20;

/** Addresses from a client: trimmed, lower-cased, deduplicated; a malformed one is BAD_USER_INPUT naming `field`. */
export function parseEmailAddresses(addresses: readonly string[], field = 'emails'): string[] {
  const bad = addresses.filter((a) => a.length > 254 || !EMAIL.test(a.trim()));
  if (bad.length > 0)
    throw badInput(`${field}: not an e-mail address: ${bad.map((a) => JSON.stringify(a)).join(', ')}`, field);
  const unique = uniqueAddresses(addresses);
  if (unique.length > MAX_NOTIFICATION_EMAILS) {
    throw badInput(`${field}: at most ${MAX_NOTIFICATION_EMAILS} addresses`, field);
  }
  return unique;
}

/** Retries of one outbox row (webhook delivery or mail): exponential back-off with jitter, bounded in time. */
export interface RetryPolicy {
  /** The first retry comes after about this long. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** A row still failing this long after it was written is given up (FAILED). */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  baseMs: 10_000,
  maxMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
});

/**
 * The wait after failed attempt number `attempts` (1 = the first): base·2^(attempts−1), capped, then "equal
 * jitter" (half fixed, half random) so receivers that come back are not hit by every sender at once.
 * `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, policy: Readonly<RetryPolicy>, random: number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

/** When to try again after a failed attempt, or null: give up (the next try would fall past the bound). */
export function nextAttemptAt(
  createdAt: Date,
  failedAt: Date,
  attempts: number,
  policy: Readonly<RetryPolicy>,
  random: number,
): Date | null {
  const next = failedAt.getTime() + retryDelayMs(attempts, policy, random);
  return next - createdAt.getTime() > policy.giveUpAfterMs ? null : new Date(next);
}
