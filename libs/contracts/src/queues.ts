import type { JobName, JobOutcome } from './job-names.js';

/** Queue names are public API: operators watch them and agents of different versions share them. */
export const RESULTS_QUEUE = 'results';
export const AGENT_EVENTS_QUEUE = 'agent-events';
const HOST_QUEUE_PREFIX = 'host-';

/** The queue of one host's agent. Host names are hostname labels, so the name is always a valid queue name. */
export function hostQueueName(hostName: string): string {
  return `${HOST_QUEUE_PREFIX}${hostName}`;
}

/** BullMQ ids may not contain ':'; one id per delivery attempt lets a re-dispatch enqueue again. */
export function deliveryId(jobId: string, attempt: number): string {
  return `${jobId}.${attempt}`;
}

/**
 * The Redis key (under QUEUE_PREFIX) holding a job's fence: the attempt the api sent last while the job is open,
 * `closed` once it is finished or failed. An agent runs a delivery only while its attempt is the fence's.
 */
export function fenceKey(prefix: string, jobId: string): string {
  return `${prefix}:fence:${jobId}`;
}

/** The fence value of a job that is finished or failed: no delivery of it may run any more. */
export const FENCE_CLOSED = 'closed';

/** The Redis set (under QUEUE_PREFIX) of the result ids the api has applied for one host's agent. */
export function resultAcksKey(prefix: string, hostName: string): string {
  return `${prefix}:acks:${hostName}`;
}

/** The Redis key the api sets once (NX) and checks: missing means Redis lost its data, and deliveries with it. */
export function deliveryEpochKey(prefix: string): string {
  return `${prefix}:epoch`;
}

/**
 * One id per result of one delivery (`<jobId>.<attempt>.<kind>`): the agent's outbox file, the results queue's
 * job id (a re-publish while a copy is queued is a no-op) and what the api acknowledges.
 */
export function resultId(message: { jobId: string; attempt: number; kind: ResultKind }): string {
  return `${message.jobId}.${message.attempt}.${message.kind}`;
}

export enum ResultKind {
  STARTED = 'job-started',
  FINISHED = 'job-finished',
}

export interface JobStartedMessage {
  kind: ResultKind.STARTED;
  jobId: string;
  attempt: number;
  hostName: string;
  at: string;
}

export interface JobFinishedMessage<N extends JobName = JobName> {
  kind: ResultKind.FINISHED;
  jobId: string;
  attempt: number;
  hostName: string;
  name: N;
  outcome: JobOutcome<N>;
  at: string;
}

export type ResultMessage = JobStartedMessage | JobFinishedMessage;

export enum AgentEventKind {
  HEARTBEAT = 'heartbeat',
  IMAGE_CHECKED = 'image-checked',
}

/** One delivery an agent holds: the job and the attempt it was sent as. */
export interface HeldDelivery {
  jobId: string;
  attempt: number;
}

/** Sent at start-up (which registers the host) and then every few seconds. */
export interface AgentHeartbeat {
  kind: AgentEventKind.HEARTBEAT;
  hostName: string;
  driver: string;
  agentVersion: string;
  at: string;
  /** Jobs the agent is carrying out now: their leases are renewed. Absent from agents before 0.2. */
  runningJobIds?: string[];
  /**
   * Every delivery the agent holds, running or waiting in its host queue (bounded): the api renews the lease of
   * each job whose current attempt it is, PENDING or RUNNING. Absent from older agents (the api then renews
   * `runningJobIds` only).
   */
  heldDeliveries?: HeldDelivery[];
  /**
   * The host's primary storage (a statfs of AGENT_STORAGE_DIR; the simulator reports SIMULATOR_STORAGE_BYTES):
   * placement fills a host up to its total. Absent from older agents, and when the storage could not be read.
   */
  storage?: { totalBytes: number; freeBytes: number };
}

/**
 * Sent by an agent that found, at start-up, an image it was writing when it last stopped (a crash mid
 * `qemu-img snapshot`): `repaired` after `qemu-img check -r leaks` left it clean, `damaged` when it could not be
 * repaired (the api marks the volume ERROR). No event for an image that was clean.
 */
export interface ImageCheckedEvent {
  kind: AgentEventKind.IMAGE_CHECKED;
  hostName: string;
  at: string;
  volumeId: string;
  status: 'repaired' | 'damaged';
  leakedClusters?: number;
  /** For the operator and the volume's error: what check found (no host paths). */
  message: string;
}

/** Everything agents add to AGENT_EVENTS_QUEUE. */
export type AgentEvent = AgentHeartbeat | ImageCheckedEvent;
