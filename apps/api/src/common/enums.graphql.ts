import { registerEnumType } from '@nestjs/graphql';
import {
  HostState,
  InstanceState,
  JobStatus,
  Role,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';

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
}
