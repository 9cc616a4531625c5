import {
  BackupState,
  HostState,
  InstanceState,
  JobStatus,
  PolicyRunState,
  SnapshotState,
  TemplateState,
  VolumeState,
} from './enums.js';
import { StateMachine } from './state-machine.js';

/**
 * A refused delete returns the snapshot to the state it left: COMPLETED if it reached the disk (CloudStack:
 * Destroying-Failed->BackedUp), ERROR if it never did, so COMPLETED always means "on disk".
 */
export const snapshotMachine = new StateMachine<SnapshotState>('Snapshot', {
  [SnapshotState.IN_PROGRESS]: [SnapshotState.COMPLETED, SnapshotState.ERROR],
  // COMPLETED→ERROR: the disk lacks its tag (the storage audit, or an agent's SNAPSHOT_MISSING), so COMPLETED
  // keeps meaning "on disk".
  [SnapshotState.COMPLETED]: [SnapshotState.DESTROYING, SnapshotState.ERROR],
  [SnapshotState.ERROR]: [SnapshotState.DESTROYING],
  [SnapshotState.DESTROYING]: [SnapshotState.COMPLETED, SnapshotState.ERROR],
});

/** Where a volume snapshot or an instance snapshot goes when its delete is refused: COMPLETED only if it ever reached the disk. */
export function stateAfterRefusedDelete(item: {
  completedAt: Date | null;
}): SnapshotState.COMPLETED | SnapshotState.ERROR {
  return item.completedAt ? SnapshotState.COMPLETED : SnapshotState.ERROR;
}

export const volumeMachine = new StateMachine<VolumeState>('Volume', {
  [VolumeState.CREATING]: [VolumeState.READY, VolumeState.ERROR],
  // READY→ERROR: the storage audit found the file missing, or the agent found the image damaged after a crash.
  [VolumeState.READY]: [VolumeState.SNAPSHOTTING, VolumeState.REVERTING, VolumeState.DESTROYING, VolumeState.ERROR],
  [VolumeState.SNAPSHOTTING]: [VolumeState.READY],
  [VolumeState.REVERTING]: [VolumeState.READY],
  [VolumeState.DESTROYING]: [VolumeState.ERROR],
  [VolumeState.ERROR]: [VolumeState.DESTROYING],
});

export const instanceMachine = new StateMachine<InstanceState>('Instance', {
  [InstanceState.CREATING]: [InstanceState.STOPPED, InstanceState.ERROR],
  [InstanceState.STARTING]: [InstanceState.RUNNING, InstanceState.STOPPED, InstanceState.ERROR],
  // RUNNING <-> STOPPED directly: an instance snapshot's revert leaves the instance running or stopped as asked.
  // STOPPED/RUNNING→ERROR: the storage audit found one of its volume files missing (the instance cannot run).
  [InstanceState.STOPPED]: [
    InstanceState.STARTING,
    InstanceState.DESTROYING,
    InstanceState.RUNNING,
    InstanceState.ERROR,
  ],
  [InstanceState.RUNNING]: [InstanceState.STOPPING, InstanceState.STOPPED, InstanceState.ERROR],
  [InstanceState.STOPPING]: [InstanceState.STOPPED, InstanceState.RUNNING, InstanceState.ERROR],
  [InstanceState.DESTROYING]: [InstanceState.ERROR],
  [InstanceState.ERROR]: [InstanceState.DESTROYING],
});

export const templateMachine = new StateMachine<TemplateState>('Template', {
  [TemplateState.CREATING]: [TemplateState.READY, TemplateState.ERROR],
  [TemplateState.READY]: [TemplateState.DESTROYING],
  // A refused delete returns the template to where it was: READY if its image was written, else ERROR.
  [TemplateState.DESTROYING]: [TemplateState.READY, TemplateState.ERROR],
  [TemplateState.ERROR]: [TemplateState.DESTROYING],
});

/** A job is finished once; a lease that runs out re-dispatches it, so RUNNING may go back to PENDING. */
export const jobMachine = new StateMachine<JobStatus>('Job', {
  [JobStatus.PENDING]: [JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED],
  [JobStatus.RUNNING]: [JobStatus.PENDING, JobStatus.SUCCEEDED, JobStatus.FAILED],
  [JobStatus.SUCCEEDED]: [],
  [JobStatus.FAILED]: [],
});

export const hostMachine = new StateMachine<HostState>('Host', {
  [HostState.UP]: [HostState.DOWN],
  [HostState.DOWN]: [HostState.UP],
});

/**
 * One occurrence of a snapshot policy. SKIPPED and MISSED rows are written final. FAILED→RUNNING is a bounded
 * retry of the same occurrence (never past the next one): the unique (policy, scheduled time) key keeps it one row.
 */
export const policyRunMachine = new StateMachine<PolicyRunState>('PolicyRun', {
  [PolicyRunState.RUNNING]: [PolicyRunState.SUCCEEDED, PolicyRunState.FAILED],
  [PolicyRunState.FAILED]: [PolicyRunState.RUNNING],
  [PolicyRunState.SUCCEEDED]: [],
  [PolicyRunState.SKIPPED]: [],
  [PolicyRunState.MISSED]: [],
});

/**
 * A backup (issue 13). A refused delete returns it to READY if it was READY (its folder is still whole) and to
 * ERROR if it never was, so READY always means "on its storage, restorable"; ERROR can only be deleted.
 */
export const backupMachine = new StateMachine<BackupState>('Backup', {
  [BackupState.CREATING]: [BackupState.READY, BackupState.ERROR],
  [BackupState.READY]: [BackupState.DESTROYING],
  [BackupState.ERROR]: [BackupState.DESTROYING],
  [BackupState.DESTROYING]: [BackupState.READY, BackupState.ERROR],
});

/** Where a backup goes when its delete is refused: READY only if it ever completed. */
export function backupStateAfterRefusedDelete(backup: {
  completedAt: Date | null;
}): BackupState.READY | BackupState.ERROR {
  return backup.completedAt ? BackupState.READY : BackupState.ERROR;
}
