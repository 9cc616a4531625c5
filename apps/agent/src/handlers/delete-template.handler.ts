import { JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import { VolumeDriver } from '../drivers/volume-driver.js';
import type { JobHandler } from './job-handler.js';
import { driverFailure } from './outcomes.js';

type Name = JobName.DELETE_TEMPLATE;

/** Removes a template's image from secondary storage; an image already gone is success. */
export class DeleteTemplateHandler implements JobHandler<Name> {
  readonly jobName = JobName.DELETE_TEMPLATE;

  constructor(private readonly driver: VolumeDriver) {}

  async handle(payload: JobPayloads[Name]): Promise<JobOutcome<Name>> {
    try {
      const { alreadyGone } = await this.driver.deleteTemplate(payload.templateId);
      return {
        ok: true,
        data: { templateId: payload.templateId, alreadyGone },
        message: alreadyGone ? 'The template image was already gone' : 'Template image deleted',
      };
    } catch (error) {
      return driverFailure<Name>(error);
    }
  }
}
