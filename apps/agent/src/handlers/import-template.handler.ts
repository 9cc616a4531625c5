import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.IMPORT_TEMPLATE;

/**
 * Registers an image an operator placed in secondary storage as a template: the driver refuses paths outside
 * secondary storage (`..`, absolute, or through a symbolic link) and anything but a plain qcow2 (no backing
 * file, no external data file), then copies it to the template's own path. An existing template is success.
 */
export class ImportTemplateHandler implements JobHandler<Name> {
  readonly jobName = JobName.IMPORT_TEMPLATE;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyExisted, virtualSizeBytes } = await this.driver.importTemplate(payload.templateId, payload.path);
      return {
        ok: true,
        data: { templateId: payload.templateId, virtualSizeBytes },
        message: alreadyExisted ? 'The template image was already in place' : 'Template image checked and copied',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
