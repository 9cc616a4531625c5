import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';

export { HandlerRegistry } from './handler-registry.js';
export type { JobContext, JobHandler } from './job-handler.js';

/** Every handler class; the registry checks that they cover each job name exactly once. */
export const HANDLER_TYPES = [CreateVolumesHandler, CreateSnapshotHandler, DeleteSnapshotHandler] as const;
