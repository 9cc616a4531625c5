import { Module } from '@nestjs/common';
import { StorageAuditScheduler } from './storage-audit-scheduler.service.js';
import { StorageAuditsResolver } from './storage-audits.resolver.js';
import { StorageAuditsService } from './storage-audits.service.js';

/** The storage audit: auditStorage, storageAudits, and the periodic audit of every UP host. */
@Module({ providers: [StorageAuditsResolver, StorageAuditsService, StorageAuditScheduler] })
export class StorageAuditsModule {}
