import { CreateInstanceSnapshotHandler } from './create-instance-snapshot.handler.js';
import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteInstanceSnapshotHandler } from './delete-instance-snapshot.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';
import { DeleteTemplateHandler } from './delete-template.handler.js';
import { DestroyVolumesHandler } from './destroy-volumes.handler.js';
import { ExportSnapshotHandler } from './export-snapshot.handler.js';
import { ImportTemplateHandler } from './import-template.handler.js';
import { RevertInstanceSnapshotHandler } from './revert-instance-snapshot.handler.js';
import { RevertSnapshotHandler } from './revert-snapshot.handler.js';
import { StartInstanceHandler } from './start-instance.handler.js';
import { StopInstanceHandler } from './stop-instance.handler.js';

export { HandlerRegistry } from './handler-registry.js';
export type { JobContext, JobHandler } from './job-handler.js';

/** Every handler class; the registry checks that they cover each job name exactly once. */
export const HANDLER_TYPES = [
  CreateVolumesHandler,
  CreateSnapshotHandler,
  DeleteSnapshotHandler,
  RevertSnapshotHandler,
  ExportSnapshotHandler,
  ImportTemplateHandler,
  DeleteTemplateHandler,
  DestroyVolumesHandler,
  StartInstanceHandler,
  StopInstanceHandler,
  CreateInstanceSnapshotHandler,
  RevertInstanceSnapshotHandler,
  DeleteInstanceSnapshotHandler,
] as const;
