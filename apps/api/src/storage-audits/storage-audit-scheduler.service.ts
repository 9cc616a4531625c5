import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DomainError, HostState } from '@snapdeck/domain';
import { Database, MAX_PAGE_SIZE, type HostEntity } from '@snapdeck/persistence';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { StorageAuditsService } from './storage-audits.service.js';

/** How often each replica looks for hosts whose audit is due; the interval itself is counted in PostgreSQL. */
const TICK_MS = 60_000;

/**
 * The periodic audit: every minute each api replica offers an audit to every UP host, and the database opens
 * one only for a host with no audit opened within STORAGE_AUDIT_INTERVAL_MINUTES (nor registered that
 * recently) and none open — one conditional insert, so replicas never audit one host twice in an interval.
 */
@Injectable()
export class StorageAuditScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StorageAuditScheduler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly db: Database,
    private readonly audits: StorageAuditsService,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.STORAGE_AUDIT_INTERVAL_MINUTES === 0) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over the UP hosts; returns how many audits it opened. Concurrent calls share the pass. */
  auditDueHosts(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async tick(): Promise<void> {
    try {
      const opened = await this.auditDueHosts();
      if (opened > 0) this.logger.log(`periodic storage audit opened for ${opened} host(s)`);
    } catch (error) {
      this.logger.error(`periodic storage audit pass failed: ${(error as Error).message}`);
    }
  }

  private async pass(): Promise<number> {
    let opened = 0;
    for (const host of await this.upHosts()) {
      try {
        if (await this.audits.auditIfDue(host)) opened++;
      } catch (error) {
        // The host went DOWN (or away) since it was listed: its next pass decides again.
        if (!(error instanceof DomainError)) throw error;
      }
    }
    return opened;
  }

  private async upHosts(): Promise<HostEntity[]> {
    const hosts: HostEntity[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.db.repos.hosts.list({ first: MAX_PAGE_SIZE, after });
      hosts.push(...page.items.filter((h) => h.state === HostState.UP));
      if (!page.hasNextPage) return hosts;
      after = page.endCursor;
    }
  }
}
