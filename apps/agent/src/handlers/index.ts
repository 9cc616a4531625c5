import type { AgentDrivers } from '../drivers/agent-drivers.js';
import type { SnapshotSlots } from '../jobs/snapshot-slots.js';
import { CreateBackupHandler } from './create-backup.handler.js';
import { CreateInstanceSnapshotHandler } from './create-instance-snapshot.handler.js';
import { CreateSnapshotHandler } from './create-snapshot.handler.js';
import { CreateVolumesHandler } from './create-volumes.handler.js';
import { DeleteBackupHandler } from './delete-backup.handler.js';
import { DeleteInstanceSnapshotHandler } from './delete-instance-snapshot.handler.js';
import { DeleteSnapshotHandler } from './delete-snapshot.handler.js';
import { DeleteTemplateHandler } from './delete-template.handler.js';
import { DestroyVolumesHandler } from './destroy-volumes.handler.js';
import { ExportSnapshotHandler } from './export-snapshot.handler.js';
import { ImportTemplateHandler } from './import-template.handler.js';
import { InventoryHandler } from './inventory.handler.js';
import { RepairStorageHandler } from './repair-storage.handler.js';
import { RestoreBackupHandler } from './restore-backup.handler.js';
import { RevertInstanceSnapshotHandler } from './revert-instance-snapshot.handler.js';
import { RevertSnapshotHandler } from './revert-snapshot.handler.js';
import { StartInstanceHandler } from './start-instance.handler.js';
import { StopInstanceHandler } from './stop-instance.handler.js';
import type { JobHandler } from './job-handler.js';

export { HandlerRegistry } from './handler-registry.js';
export type { JobContext, JobHandler } from './job-handler.js';

/**
 * Every handler, each on the port it needs: the volume port, or the node's drivers for instance jobs (which a node
 * without an instance port answers with a failed job). The registry checks that they cover each job name once.
 */
export function createHandlers(drivers: AgentDrivers, slots: SnapshotSlots): JobHandler[] {
  const { volumes } = drivers;
  return [
    new CreateVolumesHandler(volumes),
    new CreateSnapshotHandler(volumes, slots),
    new DeleteSnapshotHandler(volumes, slots),
    new RevertSnapshotHandler(volumes),
    new ExportSnapshotHandler(volumes),
    new ImportTemplateHandler(volumes),
    new DeleteTemplateHandler(volumes),
    new DestroyVolumesHandler(drivers),
    new StartInstanceHandler(drivers),
    new StopInstanceHandler(drivers),
    new CreateInstanceSnapshotHandler(drivers, slots),
    new RevertInstanceSnapshotHandler(drivers, slots),
    new DeleteInstanceSnapshotHandler(drivers, slots),
    new InventoryHandler(volumes),
    new RepairStorageHandler(volumes, slots),
    new CreateBackupHandler(volumes),
    new RestoreBackupHandler(volumes),
    new DeleteBackupHandler(volumes),
  ];
}
