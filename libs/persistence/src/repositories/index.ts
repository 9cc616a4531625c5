import type { EntityManager } from 'typeorm';
import { ApiTokenRepository } from './api-token.repository.js';
import { BackupRepository } from './backup.repository.js';
import { BackupStorageRepository } from './backup-storage.repository.js';
import { BackupScheduleRepository } from './backup-schedule.repository.js';
import { EnvironmentRepository } from './environment.repository.js';
import { EventRepository } from './event.repository.js';
import { HostRepository } from './host.repository.js';
import { IdempotencyKeyRepository } from './idempotency-key.repository.js';
import { InstanceRepository } from './instance.repository.js';
import { InstanceSnapshotRepository } from './instance-snapshot.repository.js';
import { JobRepository } from './job.repository.js';
import { OrganizationRepository } from './organization.repository.js';
import { PolicyRunRepository } from './policy-run.repository.js';
import { SnapshotRepository } from './snapshot.repository.js';
import { SnapshotPolicyRepository } from './snapshot-policy.repository.js';
import { StorageAuditRepository } from './storage-audit.repository.js';
import { TemplateRepository } from './template.repository.js';
import { UserRepository } from './user.repository.js';
import { VolumeRepository } from './volume.repository.js';
import { OutboxClaimRepository } from './outbox-claims.repository.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import { WebhookRepository } from './webhook.repository.js';

export * from './api-token.repository.js';
export * from './backup.repository.js';
export * from './backup-storage.repository.js';
export * from './backup-schedule.repository.js';
export * from './environment.repository.js';
export * from './event.repository.js';
export * from './host.repository.js';
export * from './idempotency-key.repository.js';
export * from './instance.repository.js';
export * from './instance-snapshot.repository.js';
export * from './job.repository.js';
export * from './organization.repository.js';
export * from './policy-run.repository.js';
export * from './snapshot.repository.js';
export * from './snapshot-policy.repository.js';
export * from './storage-audit.repository.js';
export * from './template.repository.js';
export * from './user.repository.js';
export * from './volume.repository.js';
export * from './notification-outbox.repository.js';
export * from './outbox-claims.repository.js';
export * from './webhook-delivery.repository.js';
export * from './webhook.repository.js';

let savepoints = 0;

/** Every repository bound to one EntityManager: the data source's, or a transaction's. */
export class Repositories {
  readonly organizations: OrganizationRepository;
  readonly users: UserRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly environments: EnvironmentRepository;
  readonly hosts: HostRepository;
  readonly instances: InstanceRepository;
  readonly volumes: VolumeRepository;
  readonly snapshots: SnapshotRepository;
  readonly instanceSnapshots: InstanceSnapshotRepository;
  readonly templates: TemplateRepository;
  readonly jobs: JobRepository;
  readonly events: EventRepository;
  readonly idempotencyKeys: IdempotencyKeyRepository;
  readonly storageAudits: StorageAuditRepository;
  readonly webhooks: WebhookRepository;
  readonly webhookDeliveries: WebhookDeliveryRepository;
  readonly outbox: OutboxClaimRepository;
  readonly snapshotPolicies: SnapshotPolicyRepository;
  readonly policyRuns: PolicyRunRepository;
  readonly backupStorages: BackupStorageRepository;
  readonly backups: BackupRepository;
  readonly backupSchedules: BackupScheduleRepository;

  constructor(private readonly manager: EntityManager) {
    this.organizations = new OrganizationRepository(manager);
    this.users = new UserRepository(manager);
    this.apiTokens = new ApiTokenRepository(manager);
    this.environments = new EnvironmentRepository(manager);
    this.hosts = new HostRepository(manager);
    this.instances = new InstanceRepository(manager);
    this.volumes = new VolumeRepository(manager);
    this.snapshots = new SnapshotRepository(manager);
    this.instanceSnapshots = new InstanceSnapshotRepository(manager);
    this.templates = new TemplateRepository(manager);
    this.jobs = new JobRepository(manager);
    this.events = new EventRepository(manager);
    this.idempotencyKeys = new IdempotencyKeyRepository(manager);
    this.storageAudits = new StorageAuditRepository(manager);
    this.webhooks = new WebhookRepository(manager);
    this.webhookDeliveries = new WebhookDeliveryRepository(manager);
    this.outbox = new OutboxClaimRepository(manager);
    this.snapshotPolicies = new SnapshotPolicyRepository(manager);
    this.policyRuns = new PolicyRunRepository(manager);
    this.backupStorages = new BackupStorageRepository(manager);
    this.backups = new BackupRepository(manager);
    this.backupSchedules = new BackupScheduleRepository(manager);
  }

  /**
   * Runs `work` inside a savepoint of the current transaction: if it throws, what it wrote is rolled back and the
   * transaction goes on (a policy run records why its snapshot was refused in the same commit as the others).
   * Only inside Database.transaction.
   */
  async savepoint<T>(work: () => Promise<T>): Promise<T> {
    const name = `sp_${++savepoints}`;
    await this.manager.query(`SAVEPOINT ${name}`);
    try {
      const result = await work();
      await this.manager.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await this.manager.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }
}
