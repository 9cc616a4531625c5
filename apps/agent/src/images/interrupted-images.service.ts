import { Injectable, Logger } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { AgentEventKind, type ImageCheckedEvent } from '@snapdeck/contracts';
import { Clock } from '../clock.js';
import { type InterruptedImage, VolumeDriver } from '../drivers/volume-driver.js';
import { describeError } from '../jobs/error-message.js';
import { AgentEventSink } from '../transport/transport-ports.js';

/**
 * Bound of the whole start-up check. A check reads every cluster's metadata, seconds for a large image; a node
 * must not stay out of service for long because of it, so what is not reached in time stays journaled and is
 * checked at the next start (and the storage audit reports it meanwhile if it is damaged).
 */
export const INTERRUPTED_IMAGES_TIMEOUT_MS = 120_000;

/**
 * At start-up, before the agent takes a job: the images a crash left half written (the driver journals every
 * `qemu-img snapshot -c/-d/-a`) are checked, leaks repaired where no process holds the image, and what was
 * repaired or found damaged is told to the api (ImageCheckedEvent: it marks a damaged volume ERROR) once the
 * host is announced. A clean image is forgotten silently.
 */
@Injectable()
export class InterruptedImagesCheck {
  private readonly logger = new Logger(InterruptedImagesCheck.name);

  constructor(
    private readonly config: AgentConfig,
    private readonly driver: VolumeDriver,
    private readonly sink: AgentEventSink,
    private readonly clock: Clock,
  ) {}

  /** Checks (bounded, logged) and returns the events to send; never throws: a failed check must not stop the agent. */
  async check(timeoutMs = INTERRUPTED_IMAGES_TIMEOUT_MS): Promise<ImageCheckedEvent[]> {
    // First the guests a backup left paused or stopped (their agent died mid-backup): they must not wait.
    try {
      for (const line of await this.driver.recoverInterruptedBackups()) this.logger.warn(line);
    } catch (error) {
      this.logger.error(`Could not finish the backups interrupted by the last stop: ${describeError(error)}`);
    }
    let found: InterruptedImage[];
    const started = Date.now();
    try {
      found = await this.driver.checkInterruptedImages({ timeoutMs });
    } catch (error) {
      this.logger.error(`Could not check the images interrupted by the last stop: ${describeError(error)}`);
      return [];
    }
    if (found.length > 0) {
      const counts = ['clean', 'repaired', 'damaged', 'deferred'].map(
        (status) => `${found.filter((i) => i.status === status).length} ${status}`,
      );
      this.logger.log(
        `Checked ${found.length} image(s) interrupted by the last stop in ${Date.now() - started} ms: ${counts.join(', ')}`,
      );
    }
    const events: ImageCheckedEvent[] = [];
    for (const image of found) {
      const line = `Volume ${image.volumeId}: ${image.status}: ${image.message}`;
      if (image.status === 'damaged') this.logger.error(line);
      else if (image.status === 'clean') this.logger.log(line);
      else this.logger.warn(line);
      if (image.status === 'repaired' || image.status === 'damaged') events.push(this.event(image, image.status));
    }
    return events;
  }

  /** Sends the events (after the first heartbeat, so the api knows the host); a lost one is logged. */
  async report(events: readonly ImageCheckedEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.sink.send(event);
      } catch (error) {
        this.logger.error(
          `Could not tell the api that volume ${event.volumeId} is ${event.status}: ${describeError(error)}; ` +
            'the storage audit reports a damaged image again',
        );
      }
    }
  }

  private event(image: InterruptedImage, status: ImageCheckedEvent['status']): ImageCheckedEvent {
    return {
      kind: AgentEventKind.IMAGE_CHECKED,
      hostName: this.config.AGENT_HOST_NAME,
      at: this.clock.now().toISOString(),
      volumeId: image.volumeId,
      status,
      ...(image.leakedClusters !== undefined ? { leakedClusters: image.leakedClusters } : {}),
      message: image.message,
    };
  }
}
