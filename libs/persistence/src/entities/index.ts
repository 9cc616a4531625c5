import { ApiTokenEntity } from './api-token.entity.js';
import { BackupEntity } from './backup.entity.js';
import { BackupStorageEntity } from './backup-storage.entity.js';
import {
  BackupScheduleEntity,
  BackupScheduleInstanceEntity,
  BackupScheduleRunEntity,
} from './backup-schedule.entity.js';
import { EnvironmentEntity } from './environment.entity.js';
import { EventEntity } from './event.entity.js';
import { HostEntity } from './host.entity.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { InstanceEntity } from './instance.entity.js';
import { InstanceSnapshotEntity } from './instance-snapshot.entity.js';
import { JobEntity } from './job.entity.js';
import { OrganizationEntity } from './organization.entity.js';
import { PolicyRunEntity } from './policy-run.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';
import { SnapshotPolicyEntity } from './snapshot-policy.entity.js';
import { StorageAuditEntity } from './storage-audit.entity.js';
import { TemplateEntity } from './template.entity.js';
import { UserEntity } from './user.entity.js';
import { VolumeEntity } from './volume.entity.js';
import { NotificationEmailEntity } from './notification-email.entity.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookEntity } from './webhook.entity.js';

export { isJob, type JobOf } from './job.entity.js';
export type { IdempotentResult } from './idempotency-key.entity.js';
export type { StorageAuditCounts } from './storage-audit.entity.js';
export type { BackupConfiguration, BackupVolumeConfiguration } from './backup.entity.js';
export type { InstanceSnapshotConfiguration } from './instance-snapshot.entity.js';
export type { BackupScheduleRunResult } from './backup-schedule.entity.js';
export { OutboxStatus } from './outbox-status.js';

export {
  ApiTokenEntity,
  BackupEntity,
  BackupScheduleEntity,
  BackupScheduleInstanceEntity,
  BackupScheduleRunEntity,
  BackupStorageEntity,
  EnvironmentEntity,
  EventEntity,
  HostEntity,
  IdempotencyKeyEntity,
  InstanceEntity,
  InstanceSnapshotEntity,
  JobEntity,
  OrganizationEntity,
  PolicyRunEntity,
  SnapshotEntity,
  SnapshotPolicyEntity,
  StorageAuditEntity,
  TemplateEntity,
  UserEntity,
  VolumeEntity,
  NotificationEmailEntity,
  WebhookDeliveryEntity,
  WebhookEntity,
};

export const ENTITIES = [
  OrganizationEntity,
  UserEntity,
  ApiTokenEntity,
  EnvironmentEntity,
  HostEntity,
  InstanceEntity,
  VolumeEntity,
  SnapshotEntity,
  InstanceSnapshotEntity,
  TemplateEntity,
  JobEntity,
  EventEntity,
  IdempotencyKeyEntity,
  StorageAuditEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  NotificationEmailEntity,
  SnapshotPolicyEntity,
  PolicyRunEntity,
  BackupStorageEntity,
  BackupEntity,
  BackupScheduleEntity,
  BackupScheduleInstanceEntity,
  BackupScheduleRunEntity,
];
