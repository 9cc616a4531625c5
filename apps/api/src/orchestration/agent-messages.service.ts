import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AgentEventKind,
  ResultKind,
  resultId,
  type AgentEvent,
  type AgentHeartbeat,
  type HeldDelivery,
  type ImageCheckedEvent,
  type ResultMessage,
} from '@snapdeck/contracts';
import { JobStatus } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { applyImageCheck } from './image-checks.js';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher.js';
import { JobResultsService } from './job-results.service.js';

/** A heartbeat names this many held deliveries at most (the agent bounds its list too). */
const MAX_HELD = 1000;

/**
 * What the api does with each message an agent sends, whichever transport carried it: job results are
 * applied (and a FINISHED one acknowledged, so the agent's outbox drops it), heartbeats register the host and
 * renew the leases of the jobs it holds, queued or running, and image checks after an agent's restart mark
 * damaged volumes.
 */
@Injectable()
export class AgentMessages {
  private readonly logger = new Logger(AgentMessages.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly db: Database,
    private readonly results: JobResultsService,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
  ) {}

  async result(message: ResultMessage): Promise<void> {
    switch (message.kind) {
      case ResultKind.STARTED:
        await this.results.started(message);
        return;
      case ResultKind.FINISHED:
        // Applied, a repeat, late or for a job that is gone: in each case the agent may forget it now.
        await this.results.finished(message);
        await this.dispatcher.acknowledge(message.hostName, [resultId(message)]);
        return;
    }
  }

  async agentEvent(event: AgentEvent): Promise<void> {
    switch (event.kind) {
      case AgentEventKind.HEARTBEAT:
        return this.heartbeat(event);
      case AgentEventKind.IMAGE_CHECKED:
        return this.imageChecked(event);
    }
  }

  private async imageChecked(event: ImageCheckedEvent): Promise<void> {
    const outcome = await this.db.transaction((tx) => applyImageCheck(tx, event));
    const line = {
      msg: `image of volume ${event.volumeId} ${event.status} on ${event.hostName}`,
      host: event.hostName,
    };
    if (outcome === 'ignored') this.logger.warn({ ...line, msg: `${line.msg}: not a volume of that host, ignored` });
    else if (event.status === 'damaged') this.logger.error(line);
    else this.logger.log(line);
  }

  private async heartbeat(beat: AgentHeartbeat): Promise<void> {
    const host = await this.db.repos.hosts.recordHeartbeat({
      hostName: beat.hostName,
      driver: beat.driver,
      agentVersion: beat.agentVersion,
      at: new Date(beat.at),
      storage: validStorage(beat.storage),
    });
    const lease = new Date(Date.now() + this.config.JOB_LEASE_SECONDS * 1000);
    const held = validHeld(beat.heldDeliveries);
    // Older agents name only what they run, without its attempt.
    if (held) await this.db.repos.jobs.renewHeld(host.id, held, lease);
    else await this.db.repos.jobs.renewLeases(host.id, beat.runningJobIds ?? [], lease);
  }

  /**
   * The in-process agent's fence: may it run this attempt? Only while it is the open job's current one. The cluster
   * agent reads the same answer from the job's fence key.
   */
  async isCurrentAttempt(jobId: string, attempt: number): Promise<boolean> {
    const job = await this.db.repos.jobs.findForOrchestration(jobId);
    return !!job && job.attempt === attempt && (job.status === JobStatus.PENDING || job.status === JobStatus.RUNNING);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The held deliveries that make sense (a uuid and a whole attempt), bounded; undefined from older agents. */
function validHeld(held: AgentHeartbeat['heldDeliveries']): HeldDelivery[] | undefined {
  if (!Array.isArray(held)) return undefined;
  return held
    .filter((h) => typeof h?.jobId === 'string' && UUID.test(h.jobId) && Number.isSafeInteger(h.attempt))
    .slice(0, MAX_HELD);
}

/** Byte counts as reported, or null when they are missing or make no sense (the host is then not placed on). */
function validStorage(storage: AgentHeartbeat['storage']): { totalBytes: number; freeBytes: number } | null {
  if (!storage) return null;
  const { totalBytes, freeBytes } = storage;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return count(totalBytes) && count(freeBytes) && freeBytes <= totalBytes ? { totalBytes, freeBytes } : null;
}
