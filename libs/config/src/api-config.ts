// Decorator metadata drives the type conversion below: load the polyfill before the class is defined.
import 'reflect-metadata';
import {
  Allow,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { Transform } from 'class-transformer';
import { NO_LIMITS, parseOrganizationLimits, type OrganizationLimits } from '@snapdeck/domain';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './logging.js';
import { parseBoolean, validateEnvironment } from './validate.js';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/**
 * Every variable the api reads. Defaults suit a developer machine with local PostgreSQL and Redis.
 * Types are spelled out: implicit conversion reads them from decorator metadata.
 */
export class ApiConfig {
  @IsString()
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/snapdeck';

  @IsString()
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Prefix of every Redis key BullMQ writes, so several installations (or test runs) can share a server. */
  @IsString()
  @MinLength(1)
  QUEUE_PREFIX: string = 'snapdeck';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  /**
   * The address the HTTP listener binds. Loopback by default, so a process started by hand (or `npm start` on a
   * laptop) is not reachable from the network with /metrics and GraphiQL open; the container image sets 0.0.0.0.
   */
  @IsString()
  @MinLength(1)
  HOST: string = '127.0.0.1';

  /**
   * How long an idle keep-alive connection stays open. Longer than a load balancer's idle timeout (60 s on the
   * common ones), so the api never closes a connection the balancer is about to reuse; Node's 5 s default also
   * races clients whose request arrives while the event loop is busy, and they see ECONNRESET.
   */
  @IsInt()
  @Min(1)
  @Max(3600)
  HTTP_KEEP_ALIVE_SECONDS: number = 65;

  /**
   * When set, `GET /metrics` needs `Authorization: Bearer <this>` (401 otherwise); unset (or empty, as compose
   * passes `${METRICS_TOKEN:-}`), it is open like /health.
   */
  @IsOptional()
  @IsString()
  @MinLength(16)
  METRICS_TOKEN?: string;

  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  /** When set, a platform administrator whose bearer token is this value is made sure to exist. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  SNAPDECK_ADMIN_TOKEN?: string;

  /** Apply pending migrations at start-up. */
  // Read the raw string: with implicit conversion on, `value` has already become Boolean('false') === true.
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  MIGRATIONS_RUN: boolean = true;

  /** A host whose last heartbeat is older than this is DOWN. */
  @IsInt()
  @Min(1)
  HOST_DOWN_AFTER_SECONDS: number = 60;

  /** How long a dispatched job may go without a result before the reconciler steps in. */
  @IsInt()
  @Min(1)
  JOB_LEASE_SECONDS: number = 300;

  /**
   * The lease of a job claimed for sending but not yet sent: an api that dies between the claim and the send
   * leaves the job to the reconciler after this long, not after JOB_LEASE_SECONDS. The long lease starts once
   * the send succeeded.
   */
  @IsInt()
  @Min(1)
  JOB_SEND_CLAIM_SECONDS: number = 10;

  /** Deliveries of one job before the reconciler fails it. */
  @IsInt()
  @Min(1)
  JOB_MAX_ATTEMPTS: number = 3;

  @IsInt()
  @Min(1)
  RECONCILE_INTERVAL_SECONDS: number = 15;

  /** How long stopInstance waits for the guest to shut down before it forces the instance off. */
  @IsInt()
  @Min(1)
  INSTANCE_STOP_TIMEOUT_SECONDS: number = 60;

  /** Query cost ceiling: a connection multiplies its children's cost by its page size. */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_COST: number = 20000;

  @IsInt()
  @Min(1)
  GRAPHQL_MAX_DEPTH: number = 10;

  /**
   * Failed bearer authentications one client address may make per window before the api answers 429 (a
   * request whose token authenticates is never counted or slowed).
   */
  @IsInt()
  @Min(1)
  AUTH_FAILURE_LIMIT: number = 30;

  @IsInt()
  @Min(1)
  AUTH_FAILURE_WINDOW_SECONDS: number = 900;

  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For to believe when taking the client's address (the
   * failed-authentication limit counts per address). `false` (default): the socket's peer, right when clients
   * connect directly; `true`: the left-most address (only behind a proxy that overwrites the header); a number:
   * that many hops; or a comma list of addresses/subnets, `loopback`, `uniquelocal`.
   */
  @Transform(({ obj, key }) => parseTrustProxy((obj as Record<string, unknown>)[key]))
  @Allow()
  TRUST_PROXY: boolean | number | string = false;

  /**
   * How often each open WebSocket's token is checked again: a revoked or expired token, or a disabled or
   * deleted user, has its subscriptions closed (4401) within this many seconds, on every api replica.
   */
  @IsInt()
  @Min(1)
  SUBSCRIPTION_AUTH_RECHECK_SECONDS: number = 5;
  /** Root fields one operation may select (fragments and aliases included): each is a lookup or a mutation. */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_ROOT_FIELDS: number = 20;

  /** Aliases one operation may use, at any depth (`__typename` aliases are free). */
  @IsInt()
  @Min(0)
  GRAPHQL_MAX_ALIASES: number = 20;

  /**
   * The limits a new organization starts with: JSON with any of the fields snapshots, snapshotGiB, instances,
   * volumeGiB, backups, backupGiB (a non-negative integer, or null for no limit; a field left out: no limit).
   */
  @Transform(({ obj, key }) => readLimits((obj as Record<string, unknown>)[key]))
  @IsOrganizationLimits()
  DEFAULT_ORGANIZATION_LIMITS: OrganizationLimits = { ...NO_LIMITS };

  /**
   * Placement: the virtual GiB of the volumes provisioned on a host may reach its storage's total size times
   * this (1.0: no overcommit; thin-provisioned qcow2 files make more than 1 possible, at the risk of running out).
   */
  @IsNumber()
  @Min(0.01)
  @Max(100)
  STORAGE_OVERCOMMIT_RATIO: number = 1.0;

  /** How often every UP host's disks are audited (one audit per host per interval across replicas); 0: never. */
  @IsInt()
  @Min(0)
  STORAGE_AUDIT_INTERVAL_MINUTES: number = 60;

  /** An orphan tag or file younger than this is never a finding (it may be an operation's, not yet recorded). */
  @IsInt()
  @Min(0)
  STORAGE_AUDIT_ORPHAN_GRACE_MINUTES: number = 60;

  /** The bound of one image's `qemu-img check` during an inventory (sent to the agent in the job). */
  @IsInt()
  @Min(1)
  @Max(3600)
  STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS: number = 60;

  /**
   * The periodic audit repairs what is certain: missing snapshots, recovery points and volumes become ERROR, and
   * orphans no row owns, older than the grace period, are removed. false: it only reports.
   */
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  STORAGE_AUDIT_AUTO_REPAIR: boolean = true;

  /**
   * Webhook targets that resolve to loopback, private, link-local, unique-local, unspecified or multicast
   * addresses are refused (at creation and at every delivery) unless this is true: a tenant must not reach the
   * api's own network through it.
   */
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: boolean = false;

  /** One webhook attempt (connect, send, answer) is given up after this long: a failed attempt, retried. */
  @IsInt()
  @Min(1)
  @Max(300)
  WEBHOOK_TIMEOUT_SECONDS: number = 10;

  /**
   * Where notification mail goes (nodemailer's URL form: `smtp://user:pass@host:587`, `smtps://…`). Unset (or
   * empty): no mail is sent; mail outbox rows are marked SKIPPED.
   */
  @IsOptional()
  @IsString()
  SMTP_URL?: string;

  /** The From of notification mail. */
  @IsString()
  @MinLength(3)
  NOTIFY_FROM: string = 'Snapdeck <snapdeck@localhost>';

  /** How often each replica looks for due webhook deliveries and mail (one indexed query per outbox). */
  @IsInt()
  @Min(50)
  @Max(60000)
  NOTIFY_POLL_MS: number = 1000;

  /** The first retry of a failed delivery comes after about this long; each next one waits twice as long (≤ 1 h). */
  @IsInt()
  @Min(1)
  @Max(3600)
  NOTIFY_RETRY_BASE_SECONDS: number = 10;

  /** A delivery or mail still failing this long after its event is given up (FAILED). */
  @IsInt()
  @Min(1)
  @Max(720)
  NOTIFY_GIVE_UP_HOURS: number = 24;
  /**
   * An incremental backup chain restarts with a full backup once it holds this many backups (the full one
   * included): a restore reads the whole chain, and a long one is slow and fragile. 1 makes every backup full.
   */
  @IsInt()
  @Min(1)
  @Max(64)
  BACKUP_FULL_EVERY: number = 7;

  /** A snapshot policy may not fire more often than this (the smallest gap over its next 50 occurrences). */
  @IsInt()
  @Min(1)
  POLICY_MIN_INTERVAL_SECONDS: number = 300;

  /**
   * How often each api replica asks PostgreSQL for the earliest due policy (one index probe), besides the timer it
   * arms for the earliest it knows: the bound on how late a policy created on another replica can run.
   */
  @IsInt()
  @Min(100)
  @Max(60000)
  POLICY_POLL_INTERVAL_MS: number = 1000;

  /**
   * Transactions one replica runs at once when many policies are due together (each claims 10 with SKIP LOCKED):
   * more start a burst sooner, at the cost of as many pooled connections.
   */
  @IsInt()
  @Min(1)
  @Max(32)
  POLICY_RUN_CONCURRENCY: number = 4;

  /** How often each replica looks for policies holding more snapshots than they keep (a failed delete is retried). */
  @IsInt()
  @Min(1)
  POLICY_PRUNE_INTERVAL_SECONDS: number = 60;

  /** Retries of a failed occurrence (quota, host down, driver error), never at or past the next occurrence. */
  @IsInt()
  @Min(0)
  @Max(10)
  POLICY_MAX_RETRIES: number = 3;

  /** The first retry's delay; each further retry waits twice as long. */
  @IsInt()
  @Min(1)
  POLICY_RETRY_BASE_SECONDS: number = 30;

  /** false: this replica runs no policies (another one does); the api still answers policy queries and mutations. */
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  POLICY_SCHEDULER_ENABLED: boolean = true;

  /** Lines below this level are not written. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'info';

  /** `json` (one object a line) or `pretty` (needs the pino-pretty dev dependency). */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat = 'json';
}

/** TRUST_PROXY as Express takes it: a boolean, a hop count, or the text of a list of addresses. */
export function parseTrustProxy(value: unknown): boolean | number | string {
  if (value === undefined || value === null || value === '') return false;
  if (typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value !== 'string') return false;
  const text = value.trim();
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^\d+$/.test(text)) return Number(text);
  return text;
}

/** What DEFAULT_ORGANIZATION_LIMITS becomes when it cannot be read: the validator below reports `problem`. */
interface UnreadableLimits {
  problem: string;
}

function readLimits(value: unknown): OrganizationLimits | UnreadableLimits {
  if (typeof value !== 'string') return value as OrganizationLimits;
  try {
    return parseOrganizationLimits(value);
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

function IsOrganizationLimits() {
  return ValidateBy({
    name: 'isOrganizationLimits',
    validator: {
      validate: (value: unknown) => typeof value === 'object' && value !== null && !('problem' in value),
      defaultMessage: (args) =>
        `DEFAULT_ORGANIZATION_LIMITS ${(args?.value as UnreadableLimits | undefined)?.problem ?? 'is invalid'}`,
    },
  });
}

export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return validateEnvironment(ApiConfig, env);
}
