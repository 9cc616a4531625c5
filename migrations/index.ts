import type { MigrationInterface } from 'typeorm';
import { Initial1795317826154 } from './1795317826154-Initial.js';
import { Templates1795320559839 } from './1795320559839-Templates.js';
import { RecoveryPoints1795327739303 } from './1795327739303-RecoveryPoints.js';
import { LimitsAndCapacity1796146645231 } from './1796146645231-LimitsAndCapacity.js';
import { TokensAndUsers1796146648866 } from './1796146648866-TokensAndUsers.js';
import { JobSentAt1796156942727 } from './1796156942727-JobSentAt.js';
import { StorageAudits1796157150954 } from './1796157150954-StorageAudits.js';
import { IdempotencyKeys1796157252930 } from './1796157252930-IdempotencyKeys.js';
import { Notifications1796180891766 } from './1796180891766-Notifications.js';
import { SnapshotPolicies1796180953464 } from './1796180953464-SnapshotPolicies.js';
import { Backups1796193639662 } from './1796193639662-Backups.js';
import { BackupSchedules1796194754889 } from './1796194754889-BackupSchedules.js';
import { VolumeContentsReplaced1796226076926 } from './1796226076926-VolumeContentsReplaced.js';
import { InstanceSize1796299795071 } from './1796299795071-InstanceSize.js';
import { RecoveryPointConfiguration1796303199396 } from './1796303199396-RecoveryPointConfiguration.js';
// new migration imports above (npm run migration:generate inserts here)

/** Every migration, oldest first. Landed migrations are never edited: a change is a new migration. */
export const MIGRATIONS: Array<new () => MigrationInterface> = [
  Initial1795317826154,
  Templates1795320559839,
  RecoveryPoints1795327739303,
  LimitsAndCapacity1796146645231,
  TokensAndUsers1796146648866,
  JobSentAt1796156942727,
  StorageAudits1796157150954,
  IdempotencyKeys1796157252930,
  Notifications1796180891766,
  SnapshotPolicies1796180953464,
  Backups1796193639662,
  BackupSchedules1796194754889,
  VolumeContentsReplaced1796226076926,
  InstanceSize1796299795071,
  RecoveryPointConfiguration1796303199396,
  // new migrations above (npm run migration:generate inserts here)
];
