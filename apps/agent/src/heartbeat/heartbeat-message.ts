import { type AgentHeartbeat, AgentEventKind, type HeldDelivery } from '@snapdeck/contracts';
import type { AgentConfig } from '@snapdeck/config';
import type { JobsOptions } from 'bullmq';
import { AGENT_VERSION } from '../version.js';
import type { StorageReport } from './storage-probe.js';

export function heartbeatMessage(
  config: AgentConfig,
  at: Date,
  runningJobIds: string[] = [],
  storage: StorageReport | null = null,
  heldDeliveries: HeldDelivery[] = [],
): AgentHeartbeat {
  return {
    ...(storage ? { storage } : {}),
    kind: AgentEventKind.HEARTBEAT,
    hostName: config.AGENT_HOST_NAME,
    driver: config.AGENT_DRIVER,
    agentVersion: AGENT_VERSION,
    at: at.toISOString(),
    runningJobIds,
    heldDeliveries,
  };
}

/** A heartbeat is only news until the next one: keep none once applied, and a bounded few that failed. */
export const HEARTBEAT_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: 1000 };
