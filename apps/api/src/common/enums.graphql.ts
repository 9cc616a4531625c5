import { registerEnumType } from '@nestjs/graphql';
import { AGENT_DRIVERS, type AgentDriverName } from '@snapdeck/config';
import { JobName } from '@snapdeck/contracts';
import {
  EventType,
  eventTypeName,
  HostState,
  InstanceState,
  JobStatus,
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
  registerEnumType(Role, { name: 'Role' });
  registerEnumType(SnapshotState, {
    name: 'SnapshotState',
    valuesMap: {
      IN_PROGRESS: { description: 'In progress' },
      COMPLETED: { description: 'Completed' },
      DESTROYING: { description: 'Destroying' },
      ERROR: { description: 'Error' },
    },
  });
  registerEnumType(VolumeType, { name: 'VolumeType' });
  registerEnumType(VolumeState, {
    name: 'VolumeState',
    valuesMap: { SNAPSHOTTING: { description: 'Snapshot in progress' } },
  });
  registerEnumType(InstanceState, { name: 'InstanceState' });
  registerEnumType(TemplateState, { name: 'TemplateState' });
  registerEnumType(HostState, { name: 'HostState' });
  registerEnumType(JobStatus, { name: 'JobStatus' });
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
