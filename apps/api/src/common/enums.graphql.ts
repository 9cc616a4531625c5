import { registerEnumType } from '@nestjs/graphql';
import { AGENT_DRIVERS, type AgentDriverName } from '@snapdeck/config';
import { JobName } from '@snapdeck/contracts';
import {
  BackupCompression,
  BackupMode,
  BackupState,
  EventType,
  eventTypeName,
  HostState,
  InstanceState,
  JobStatus,
  PolicyRunStatus,
  Role,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';

/** The agent drivers by GraphQL name: QEMU_IMG → 'qemu-img' (what a host reports and the hosts table holds). */
export const HostDriver = Object.fromEntries(AGENT_DRIVERS.map((driver) => [eventTypeName(driver), driver])) as Record<
  string,
  AgentDriverName
>;

/** A description for every value of an enum whose values are the strings the code stores. */
function storedAs(values: Record<string, string>, what: string) {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, { description: `${what} \`${value}\`.` }]),
  );
}

/** The domain's enums, exposed under the contract's GraphQL names. Imported once, by the GraphQL module. */
export function registerDomainEnums(): void {
  registerEnumType(Role, {
    name: 'Role',
    description: 'What a user may do; each role may do what the ones below it may.',
    valuesMap: {
      PLATFORM_ADMIN: { description: 'Runs the platform: every organization, hosts, public templates.' },
      SUPPORT: {
        description: "Support staff: reads every organization's resources and clones snapshots to troubleshoot.",
      },
      ORG_ADMIN: { description: 'Administers one organization: its users, tokens and resources.' },
      MEMBER: { description: "Works with the organization's resources: instances, volumes, snapshots." },
      READ_ONLY: { description: "Reads the organization's resources and changes nothing." },
    },
  });
  registerEnumType(SnapshotState, {
    name: 'SnapshotState',
    description: "Where a snapshot is in its life cycle (the portal shows the label in each value's description).",
    valuesMap: {
      IN_PROGRESS: { description: 'In progress' },
      COMPLETED: { description: 'Completed' },
      DESTROYING: { description: 'Destroying' },
      ERROR: { description: 'Error' },
    },
  });
  registerEnumType(VolumeType, {
    name: 'VolumeType',
    description: "A volume's role in its instance.",
    valuesMap: {
      ROOT: { description: "The instance's boot disk." },
      DATADISK: { description: 'A data disk (DATA-1, DATA-2, …), attached or loose.' },
    },
  });
  registerEnumType(VolumeState, {
    name: 'VolumeState',
    description: 'Where a volume is in its life cycle.',
    valuesMap: {
      CREATING: { description: 'Being written by its host.' },
      READY: { description: 'Usable: snapshots, reverts and attachments start from here.' },
      SNAPSHOTTING: { description: 'Snapshot in progress' },
      REVERTING: { description: 'Being rolled back to a snapshot.' },
      DESTROYING: { description: 'Being removed from its host.' },
      ERROR: { description: 'An operation failed; see the job and the events.' },
    },
  });
  registerEnumType(InstanceState, {
    name: 'InstanceState',
    description: 'Where an instance is in its life cycle.',
    valuesMap: {
      CREATING: { description: 'Its volumes are being provisioned.' },
      STOPPED: { description: 'Provisioned and not running.' },
      STARTING: { description: 'Being started.' },
      RUNNING: { description: 'Running on its host.' },
      STOPPING: { description: 'Being shut down.' },
      DESTROYING: { description: 'Being destroyed with its volumes.' },
      ERROR: { description: 'Provisioning or an operation failed.' },
    },
  });
  registerEnumType(TemplateState, {
    name: 'TemplateState',
    description: 'Where a template is in its life cycle.',
    valuesMap: {
      CREATING: { description: 'Its image is being written or checked.' },
      READY: { description: 'Instances can be deployed from it.' },
      DESTROYING: { description: 'Its image is being removed.' },
      ERROR: { description: 'Writing or checking the image failed; see error.' },
    },
  });
  registerEnumType(HostState, {
    name: 'HostState',
    description: "Whether a host's agent is heard from.",
    valuesMap: {
      UP: { description: 'Heartbeats arrive; new work may be placed on it.' },
      DOWN: { description: 'Heartbeats stopped (HOST_DOWN_AFTER_SECONDS).' },
    },
  });
  registerEnumType(JobStatus, {
    name: 'JobStatus',
    description: 'Where a job is.',
    valuesMap: {
      PENDING: { description: 'Waiting for its agent (again, after a lost delivery).' },
      RUNNING: { description: 'Its agent is carrying it out.' },
      SUCCEEDED: { description: 'Done; the resource shows the result.' },
      FAILED: { description: 'Failed; error says why.' },
    },
  });
  registerEnumType(JobName, {
    name: 'JobType',
    description: 'The operation a job carries out: the job name on the queue, in UPPER_SNAKE case.',
    valuesMap: storedAs(JobName, 'The job named'),
  });
  registerEnumType(EventType, {
    name: 'EventType',
    description: 'What an audit event records: `<resource>.<what happened>` in UPPER_SNAKE case.',
    valuesMap: storedAs(EventType, 'Recorded as'),
  });
  registerEnumType(PolicyRunStatus, {
    name: 'PolicyRunStatus',
    description: 'How an occurrence of a snapshot policy ended.',
    valuesMap: {
      SUCCEEDED: { description: 'Its snapshot reached COMPLETED.' },
      FAILED: { description: 'No snapshot (quota, host down, driver error): lastError says why.' },
      SKIPPED: { description: 'The volume was busy with another operation: nothing was taken.' },
      MISSED: { description: 'It passed while no scheduler ran, beyond the one catch-up.' },
    },
  });
  registerEnumType(BackupState, {
    name: 'BackupState',
    description: 'Where a backup is in its life cycle.',
    valuesMap: {
      CREATING: { description: 'Creating: its job is writing it (the instance’s disks are busy meanwhile).' },
      READY: { description: 'Ready: on its storage, restorable.' },
      DESTROYING: { description: 'Destroying: its folder is being removed.' },
      ERROR: { description: 'Error: it failed (see error); it can only be deleted.' },
    },
  });
  registerEnumType(BackupMode, {
    name: 'BackupMode',
    description: 'How a running instance is backed up; a stopped one is copied as it is, whatever the mode.',
    valuesMap: {
      SNAPSHOT: { description: 'Live: a consistent point of every disk at one instant, the guest keeps running.' },
      SUSPEND: { description: 'The guest is paused for the copy and resumed.' },
      STOP: { description: 'The guest is shut down for the copy and started again.' },
    },
  });
  registerEnumType(BackupCompression, {
    name: 'BackupCompression',
    description: "How a backup's qcow2 files are written.",
    valuesMap: {
      NONE: { description: 'Plain qcow2.' },
      ZSTD: { description: 'qcow2 compressed clusters, zstd.' },
      GZIP: { description: 'qcow2 compressed clusters, zlib.' },
    },
  });
  registerEnumType(HostDriver, {
    name: 'HostDriver',
    description: "How a host's agent carries operations out.",
    valuesMap: {
      QEMU_IMG: { description: 'qemu-img on qcow2 files: offline operations (`qemu-img`).' },
      LIBVIRT: { description: 'libvirt: running domains, live snapshots (`libvirt`).' },
      SIMULATOR: { description: 'No disks: for scale tests and demos (`simulator`).' },
    },
  });
}
