import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AgentEventKind,
  ResultKind,
  type AgentEvent,
  type AgentHeartbeat,
  type ImageCheckedEvent,
  type ResultMessage,
} from '@snapdeck/contracts';
import { Database } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { applyImageCheck } from './image-checks.js';
import { JobResultsService } from './job-results.service.js';

/**
 * What the api does with each message an agent sends, whichever transport carried it: job results are
 * applied, heartbeats register the host and renew the leases of the jobs it is running, image checks after an
 * agent's restart mark damaged volumes.
 */
@Injectable()
export class AgentMessages {
  private readonly logger = new Logger(AgentMessages.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly db: Database,
    private readonly results: JobResultsService,
  ) {}

  async result(message: ResultMessage): Promise<void> {
    switch (message.kind) {
      case ResultKind.STARTED:
        await this.results.started(message);
        return;
      case ResultKind.FINISHED:
        await this.results.finished(message);
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
    await this.db.repos.jobs.renewLeases(host.id, beat.runningJobIds ?? [], lease);
  }
}

/** Byte counts as reported, or null when they are missing or make no sense (the host is then not placed on). */
function validStorage(storage: AgentHeartbeat['storage']): { totalBytes: number; freeBytes: number } | null {
  if (!storage) return null;
  const { totalBytes, freeBytes } = storage;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return count(totalBytes) && count(freeBytes) && freeBytes <= totalBytes ? { totalBytes, freeBytes } : null;
}
