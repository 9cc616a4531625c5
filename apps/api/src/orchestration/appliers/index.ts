import { JobName } from '@snapdeck/contracts';
import { CreateSnapshotApplier } from './create-snapshot.applier.js';
import { CreateVolumesApplier } from './create-volumes.applier.js';
import { DeleteSnapshotApplier } from './delete-snapshot.applier.js';
import type { JobOutcomeApplier } from './job-outcome-applier.js';

export type { JobOutcomeApplier } from './job-outcome-applier.js';

/** One applier per job name; the Record type makes a job name without an applier a compile error. */
export const JOB_OUTCOME_APPLIERS: { readonly [N in JobName]: JobOutcomeApplier<N> } = {
  [JobName.CREATE_VOLUMES]: new CreateVolumesApplier(),
  [JobName.CREATE_SNAPSHOT]: new CreateSnapshotApplier(),
  [JobName.DELETE_SNAPSHOT]: new DeleteSnapshotApplier(),
};
