import type { JobEnvelope } from '@snapdeck/contracts';

/**
 * The one port through which the api hands work to the agent of a host. BullMQ serves it in a cluster; an
 * all-in-one process serves it in-process, with the same Job rows, leases and reconciliation.
 */
export interface JobDispatcher {
  send(hostName: string, envelope: JobEnvelope): Promise<void>;
  /** Takes back deliveries of a job that no agent has picked up yet (the job was failed meanwhile). */
  withdraw(hostName: string, jobId: string, attempts: number): Promise<void>;
  /** Deliveries the host's agent has not finished yet: waiting, running and in retry backoff. */
  pendingDeliveries(hostName: string): Promise<number>;
  /**
   * Makes `attempt` the only delivery of the job an agent may run (written before that attempt is sent). A no-op
   * where the agent asks the api itself (in-process).
   */
  fence(jobId: string, attempt: number): Promise<void>;
  /** No delivery of the job may run any more: it is finished or failed. */
  closeFence(jobId: string): Promise<void>;
  /** Tells the agent of `hostName` that these results are applied (or found moot), so its outbox drops them. */
  acknowledge(hostName: string, resultIds: readonly string[]): Promise<void>;
  /**
   * True when the transport lost what it held (a Redis restarted empty: queued deliveries, fences and acks gone),
   * once per loss; false in-process, where nothing outlives the api anyway.
   */
  deliveriesLost(): Promise<boolean>;
  /** Calls `listener` each time the transport (re)connects, so a loss is looked for at once. */
  onReconnect(listener: () => void): void;
  /** Resolves when the transport can take work (readiness); rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const JOB_DISPATCHER = Symbol('JOB_DISPATCHER');
