import { JobName } from '@snapdeck/contracts';
import { CreateBackupApplier } from './create-backup.applier.js';
import { CreateInstanceSnapshotApplier } from './create-instance-snapshot.applier.js';
import { CreateSnapshotApplier } from './create-snapshot.applier.js';
import { CreateVolumesApplier } from './create-volumes.applier.js';
import { DeleteBackupApplier } from './delete-backup.applier.js';
import { DeleteInstanceSnapshotApplier } from './delete-instance-snapshot.applier.js';
import { DeleteSnapshotApplier } from './delete-snapshot.applier.js';
import { DeleteTemplateApplier } from './delete-template.applier.js';
import { DestroyVolumesApplier } from './destroy-volumes.applier.js';
import { ExportSnapshotApplier } from './export-snapshot.applier.js';
import { ImportTemplateApplier } from './import-template.applier.js';
import { InventoryApplier } from './inventory.applier.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';
import { RepairStorageApplier } from './repair-storage.applier.js';
import { RestoreBackupApplier } from './restore-backup.applier.js';
import { RevertInstanceSnapshotApplier } from './revert-instance-snapshot.applier.js';
import { RevertSnapshotApplier } from './revert-snapshot.applier.js';
import { StartInstanceApplier } from './start-instance.applier.js';
import { StopInstanceApplier } from './stop-instance.applier.js';

export type { FollowUpJob, JobOutcomeApplier } from './job-outcome-applier.js';

/** One applier per job name; the Record type makes a job name without an applier a compile error. */
export const JOB_OUTCOME_APPLIERS: { readonly [N in JobName]: JobOutcomeApplier<N> } = {
  [JobName.CREATE_VOLUMES]: new CreateVolumesApplier(),
  [JobName.CREATE_SNAPSHOT]: new CreateSnapshotApplier(),
  [JobName.DELETE_SNAPSHOT]: new DeleteSnapshotApplier(),
  [JobName.REVERT_SNAPSHOT]: new RevertSnapshotApplier(),
  [JobName.EXPORT_SNAPSHOT]: new ExportSnapshotApplier(),
  [JobName.IMPORT_TEMPLATE]: new ImportTemplateApplier(),
  [JobName.DELETE_TEMPLATE]: new DeleteTemplateApplier(),
  [JobName.DESTROY_VOLUMES]: new DestroyVolumesApplier(),
  [JobName.START_INSTANCE]: new StartInstanceApplier(),
  [JobName.STOP_INSTANCE]: new StopInstanceApplier(),
  [JobName.CREATE_INSTANCE_SNAPSHOT]: new CreateInstanceSnapshotApplier(),
  [JobName.REVERT_INSTANCE_SNAPSHOT]: new RevertInstanceSnapshotApplier(),
  [JobName.DELETE_INSTANCE_SNAPSHOT]: new DeleteInstanceSnapshotApplier(),
  [JobName.INVENTORY]: new InventoryApplier(),
  [JobName.REPAIR_STORAGE]: new RepairStorageApplier(),
  [JobName.CREATE_BACKUP]: new CreateBackupApplier(),
  [JobName.RESTORE_BACKUP]: new RestoreBackupApplier(),
  [JobName.DELETE_BACKUP]: new DeleteBackupApplier(),
};
