import { Inject, Injectable } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import { conflict, notFound } from '@snapdeck/domain';
import {
  Database,
  type HostEntity,
  type JobEntity,
  type Page,
  type PageRequest,
  type StorageAuditEntity,
} from '@snapdeck/persistence';
import { assertHostUp } from '../common/hosts.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob } from '../orchestration/open-job.js';

export interface StorageAuditOperation {
  storageAudit: StorageAuditEntity;
  job: JobEntity;
}

/**
 * Opens storage audits: a row and its INVENTORY job, in one transaction, sent once it commits. One audit of a
 * host is open at a time: a manual audit while one runs is CONFLICT; the periodic one skips the host.
 */
@Injectable()
export class StorageAuditsService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** auditStorage: a platform administrator's audit of one UP host. */
  async audit(by: { userId: string | null }, hostId: string, repair: boolean): Promise<StorageAuditOperation> {
    const operation = await this.open(by, hostId, repair, undefined);
    if (!operation) {
      const running = await this.db.repos.storageAudits.findOpen(hostId);
      throw conflict(`An audit of this host is running (${running?.id ?? 'just closed'}): wait for it to finish`);
    }
    return operation;
  }

  /**
   * The periodic audit of one host: opened only when no audit of it was opened within the interval (and the
   * host has been registered that long), by whichever replica gets there first; null otherwise.
   */
  auditIfDue(host: HostEntity): Promise<StorageAuditOperation | null> {
    return this.open(
      { userId: null },
      host.id,
      this.config.STORAGE_AUDIT_AUTO_REPAIR,
      this.config.STORAGE_AUDIT_INTERVAL_MINUTES,
    );
  }

  list(filter: { hostId?: string | null }, page: PageRequest): Promise<Page<StorageAuditEntity>> {
    return this.db.repos.storageAudits.list(filter, page);
  }

  findById(id: string): Promise<StorageAuditEntity | null> {
    return this.db.repos.storageAudits.findById(id);
  }

  private async open(
    by: { userId: string | null },
    hostId: string,
    repair: boolean,
    notWithinMinutes: number | undefined,
  ): Promise<StorageAuditOperation | null> {
    // Not commitThenLaunch: an audit that is not opened (one is open, or not due) commits nothing to send.
    const opened = await this.db.transaction(async (tx) => {
      const found = await tx.hosts.findById(hostId);
      if (!found) throw notFound('Host', hostId);
      const host = assertHostUp(found, 'audit');
      const audit = await tx.storageAudits.open(
        { hostId, repaired: repair, orphanGraceMinutes: this.config.STORAGE_AUDIT_ORPHAN_GRACE_MINUTES },
        notWithinMinutes,
      );
      if (!audit) return null;
      const resource = ['StorageAudit', { id: audit.id, organizationId: null }] as const;
      const job = await openJob(tx, by, host, resource, JobName.INVENTORY, {
        checkTimeoutSeconds: this.config.STORAGE_AUDIT_CHECK_TIMEOUT_SECONDS,
      });
      await tx.storageAudits.setJob(audit.id, 'jobId', job.id);
      return { storageAudit: { ...audit, jobId: job.id }, job, hostName: host.name };
    });
    if (!opened) return null;
    return { storageAudit: opened.storageAudit, job: await this.launcher.launch(opened.job, opened.hostName) };
  }
}
