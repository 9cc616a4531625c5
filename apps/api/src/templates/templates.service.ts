import { Injectable } from '@nestjs/common';
import { agentSecondaryFolderOf, JobName, templatePath } from '@snapdeck/contracts';
import {
  assertRelativeStoragePath,
  badInput,
  conflict,
  forbidden,
  notFound,
  Permission,
  preconditionFailed,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  Database,
  newId,
  type HostEntity,
  type JobEntity,
  type Page,
  type PageRequest,
  type TemplateEntity,
} from '@snapdeck/persistence';
import { can, readScope, writeScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { assertHostUp } from '../common/hosts.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { openJob, type JobResource } from '../orchestration/open-job.js';
import type { CreateTemplateFromSnapshotInput, RegisterTemplateInput } from './dto/template.inputs.js';

export interface TemplateOperation {
  template: TemplateEntity;
  job: JobEntity;
}

@Injectable()
export class TemplatesService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
  ) {}

  /** A golden image: the snapshot of a ROOT volume written to secondary storage as a standalone qcow2. */
  async createFromSnapshot(principal: Principal, input: CreateTemplateFromSnapshotInput): Promise<TemplateOperation> {
    if (input.public && !can(principal, Permission.PLATFORM))
      throw forbidden('Only platform administrators make public templates');
    return this.launcher.commitThenLaunch(async (tx) => {
      const snapshot = await findWritable(principal, 'Snapshot', input.snapshotId, (s) =>
        tx.snapshots.findById(s, input.snapshotId),
      );
      // Held until commit, so a delete of the snapshot cannot slip in before the template row exists.
      const locked = await tx.snapshots.lock(snapshot.id, 'share');
      const volume = (await tx.volumes.findById(ALL_ORGANIZATIONS, snapshot.volumeId))!;
      if (volume.type !== VolumeType.ROOT)
        throw badInput('Templates are made from snapshots of ROOT volumes only', 'snapshotId');
      if (locked?.state !== SnapshotState.COMPLETED)
        throw conflict(`Snapshot ${snapshot.name} is ${locked?.state ?? 'gone'}, not COMPLETED`);
      const host = assertHostUp(await tx.hosts.findById(volume.hostId), 'snapshot');
      const templateId = newId();
      const resource: JobResource = ['Template', { id: templateId, organizationId: snapshot.organizationId }];
      const job = await openJob(tx, principal, host, resource, JobName.EXPORT_SNAPSHOT, {
        volumeId: volume.id,
        snapshotId: snapshot.id,
        destination: templatePath(templateId),
      });
      const template = await tx.templates.create({
        id: templateId,
        organizationId: snapshot.organizationId,
        name: input.name,
        description: input.description ?? null,
        state: TemplateState.CREATING,
        public: input.public ?? false,
        sourceSnapshotId: snapshot.id,
        lastJobId: job.id,
      });
      return { operation: { template, job }, hostName: host.name };
    });
  }

  /**
   * An image an operator placed in secondary storage becomes a template once an agent has checked it is a
   * plain qcow2 inside that storage (no backing file, no external data file) and copied it in.
   */
  async register(principal: Principal, input: RegisterTemplateInput): Promise<TemplateOperation> {
    const path = assertRelativeStoragePath(input.path);
    // The agents check again on disk (after resolving symbolic links, with the link count and the file type):
    // what can be seen in the path alone is refused here, before a row or a job exists.
    const folder = agentSecondaryFolderOf(path);
    if (folder) {
      throw badInput(
        `path must not be under ${folder}/: the agents write that folder of secondary storage (templates and snapshots in transit); place the image to import elsewhere`,
        'path',
      );
    }
    // Backup storages under secondary storage (`default`: backups/) hold organizations' backups: never an image
    // to publish as a template.
    const backupFolder = await this.backupStorageOf(path);
    if (backupFolder) {
      throw badInput(
        `path must not be under ${backupFolder}/: that folder of secondary storage is a backup storage (organizations' backups)`,
        'path',
      );
    }
    const host = await this.anyUpHost();
    return this.launcher.commitThenLaunch(async (tx) => {
      const templateId = newId();
      const resource: JobResource = ['Template', { id: templateId, organizationId: principal.organizationId }];
      const job = await openJob(tx, principal, host, resource, JobName.IMPORT_TEMPLATE, { templateId, path });
      const template = await tx.templates.create({
        id: templateId,
        organizationId: principal.organizationId,
        name: input.name,
        description: null,
        state: TemplateState.CREATING,
        public: input.public ?? false,
        sourceSnapshotId: null,
        lastJobId: job.id,
      });
      return { operation: { template, job }, hostName: host.name };
    });
  }

  /** DESTROYING, then gone once the file is; refused while a deployment is still copying it. */
  async delete(principal: Principal, templateId: string): Promise<TemplateOperation> {
    const host = await this.anyUpHost();
    return this.launcher.commitThenLaunch(async (tx) => {
      const owned = await tx.templates.findOwned(writeScope(principal), templateId);
      // Exclusive until commit: deployments from it are committed (and refuse the delete below) or wait.
      const template = owned ? await tx.templates.lock(owned.id, 'update') : null;
      // A template the caller can see but does not own (public, or another organization's to support staff) is
      // NOT_FOUND like any other organization's resource: the caller may not act on it.
      if (!template) throw notFound('Template', templateId);
      if (template.state === TemplateState.CREATING || template.state === TemplateState.DESTROYING) {
        throw conflict(`Template ${template.name} is ${template.state}`);
      }
      if (await tx.volumes.existsCreatingFrom({ templateId }, VolumeState.CREATING)) {
        throw conflict(
          `Template ${template.name} is being copied to a new instance: wait for the deployment to finish`,
        );
      }
      const job = await openJob(tx, principal, host, ['Template', template], JobName.DELETE_TEMPLATE, {
        templateId: template.id,
      });
      if (
        !(await tx.templates.transition(template.id, [template.state], TemplateState.DESTROYING, { lastJobId: job.id }))
      ) {
        throw conflict('The template changed meanwhile; try again');
      }
      const destroying = (await tx.templates.findOwned(ALL_ORGANIZATIONS, template.id))!;
      return { operation: { template: destroying, job }, hostName: host.name };
    });
  }

  list(principal: Principal, page: PageRequest): Promise<Page<TemplateEntity>> {
    return this.db.repos.templates.list(readScope(principal), page);
  }

  findById(principal: Principal, id: string): Promise<TemplateEntity | null> {
    return this.db.repos.templates.findVisible(readScope(principal), id);
  }

  /** The backup storage folder of secondary storage that `path` lies in, or null. */
  private async backupStorageOf(path: string): Promise<string | null> {
    const storages = await this.db.repos.backupStorages.list({ first: 100 });
    const folder = storages.items.find(
      (s) => s.root === 'secondary' && (path === s.path || path.startsWith(`${s.path}/`)),
    );
    return folder?.path ?? null;
  }

  /** Secondary storage is shared by every host, so any agent that is UP can work on it. */
  private async anyUpHost(): Promise<HostEntity> {
    const host = await this.db.repos.hosts.findLeastLoadedUpHost();
    if (!host) throw preconditionFailed('No host is UP to work on secondary storage');
    return host;
  }
}
