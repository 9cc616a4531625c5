import type { AgentEvent, HeldDelivery } from '@snapdeck/contracts';

/**
 * The agent's five ties to the api, each an abstract class (so also its DI token). Redis (BullMQ) serves them
 * on the cluster stack; an all-in-one process serves them through its InProcessBus. Job results go through
 * ResultSink (results/result-sink.ts).
 */

/** Whatever connections the transport holds: checked at start-up, released last at shutdown. */
export abstract class TransportConnections {
  /** Resolves once the transport answers; rejects with the cause after `timeoutMs`. */
  abstract waitUntilReachable(timeoutMs: number): Promise<void>;
  abstract close(): Promise<void>;
}

/** Where this host's deliveries come from; each is handed to the JobRunner. */
export abstract class JobSource {
  abstract start(): Promise<void>;
  /** Stops taking deliveries and resolves once the ones running have finished and reported. */
  abstract close(): Promise<void>;
  /** Deliveries waiting for this agent (not running yet), at most `limit`: heartbeats keep their leases alive. */
  abstract waitingDeliveries(limit: number): Promise<HeldDelivery[]>;
}

/**
 * Asked before a delivery touches a disk: is its attempt still the job's current open one? A job failed by the
 * reconciler, finished, or sent again under a newer attempt must not run from an older delivery an agent held
 * (frozen past its lease, or queued behind others).
 */
export abstract class DeliveryFence {
  /** 'current': run it; 'stale': do not; 'unknown': nothing says (a Redis that lost its data), run it. */
  abstract check(jobId: string, attempt: number): Promise<'current' | 'stale' | 'unknown'>;
}

/**
 * Where agent events go (AGENT_EVENTS_QUEUE): heartbeats, and what the start-up check found of images a crash
 * left half written. HeartbeatService opens it first and closes it last.
 */
export abstract class AgentEventSink {
  abstract start(): Promise<void>;
  /** Resolves once the event is stored (or applied); rejects if it could not be. */
  abstract send(event: AgentEvent): Promise<void>;
  abstract close(): Promise<void>;
}
