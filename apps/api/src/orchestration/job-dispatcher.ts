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
  /** Resolves when the transport can take work (readiness); rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const JOB_DISPATCHER = Symbol('JOB_DISPATCHER');
