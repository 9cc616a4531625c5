import { loadAgentConfig } from '@snapdeck/config';
import { type AgentEvent, AgentEventKind } from '@snapdeck/contracts';
import { Clock } from '../clock.js';
import { SimulatorDriver } from '../drivers/simulator/simulator.driver.js';
import type { InterruptedImage, InterruptedImagesOptions } from '../drivers/volume-driver.js';
import { AgentEventSink } from '../transport/transport-ports.js';
import { INTERRUPTED_IMAGES_TIMEOUT_MS, InterruptedImagesCheck } from './interrupted-images.service.js';

const AT = new Date('2026-12-01T21:00:00.000Z');
const config = loadAgentConfig({ AGENT_HOST_NAME: 'kvm-1', AGENT_DRIVER: 'simulator' });
const clock: Clock = { now: () => AT };

/** The simulator, answering the start-up check with what a test says (it never writes an image itself). */
class FindingDriver extends SimulatorDriver {
  asked: InterruptedImagesOptions[] = [];
  constructor(private readonly answer: InterruptedImage[] | Error) {
    super({ latencyMs: 0, failureRate: 0 });
  }
  override checkInterruptedImages(options: InterruptedImagesOptions): Promise<InterruptedImage[]> {
    this.asked.push(options);
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  }
}

class RecordingSink extends AgentEventSink {
  readonly sent: AgentEvent[] = [];
  constructor(private readonly failFor = new Set<string>()) {
    super();
  }
  start = () => Promise.resolve();
  close = () => Promise.resolve();
  send(event: AgentEvent): Promise<void> {
    if (event.kind === AgentEventKind.IMAGE_CHECKED && this.failFor.has(event.volumeId)) {
      return Promise.reject(new Error('Redis is gone'));
    }
    this.sent.push(event);
    return Promise.resolve();
  }
}

const image = (volumeId: string, status: InterruptedImage['status'], extra: Partial<InterruptedImage> = {}) => ({
  volumeId,
  status,
  check: { status: 'clean' as const },
  message: `${status} message`,
  ...extra,
});

describe('InterruptedImagesCheck', () => {
  it('asks the driver with its bound and turns only repaired and damaged images into events', async () => {
    const driver = new FindingDriver([
      image('v-clean', 'clean'),
      image('v-repaired', 'repaired', { leakedClusters: 7 }),
      image('v-damaged', 'damaged', { check: { status: 'corrupt', corruptions: 1 } }),
      image('v-deferred', 'deferred'),
    ]);
    const check = new InterruptedImagesCheck(config, driver, new RecordingSink(), clock);

    const events = await check.check();

    expect(driver.asked).toEqual([{ timeoutMs: INTERRUPTED_IMAGES_TIMEOUT_MS }]);
    expect(events).toEqual([
      {
        kind: AgentEventKind.IMAGE_CHECKED,
        hostName: 'kvm-1',
        at: AT.toISOString(),
        volumeId: 'v-repaired',
        status: 'repaired',
        leakedClusters: 7,
        message: 'repaired message',
      },
      {
        kind: AgentEventKind.IMAGE_CHECKED,
        hostName: 'kvm-1',
        at: AT.toISOString(),
        volumeId: 'v-damaged',
        status: 'damaged',
        message: 'damaged message',
      },
    ]);
  });

  it('does not stop the agent when the check itself fails: no events', async () => {
    const check = new InterruptedImagesCheck(
      config,
      new FindingDriver(new Error('journal unreadable')),
      new RecordingSink(),
      clock,
    );
    await expect(check.check()).resolves.toEqual([]);
  });

  it('sends every event, going on past one the sink refuses', async () => {
    const sink = new RecordingSink(new Set(['v-1']));
    const check = new InterruptedImagesCheck(config, new FindingDriver([]), sink, clock);
    const event = (volumeId: string) => ({
      kind: AgentEventKind.IMAGE_CHECKED as const,
      hostName: 'kvm-1',
      at: AT.toISOString(),
      volumeId,
      status: 'damaged' as const,
      message: 'x',
    });
    await check.report([event('v-1'), event('v-2')]);
    expect(sink.sent).toEqual([event('v-2')]);
  });
});

describe('InterruptedImagesCheck and interrupted backups', () => {
  class RecoveringDriver extends FindingDriver {
    readonly order: string[] = [];
    constructor(private readonly recovery: string[] | Error) {
      super([]);
    }
    override recoverInterruptedBackups(): Promise<string[]> {
      this.order.push('backups');
      return this.recovery instanceof Error ? Promise.reject(this.recovery) : Promise.resolve(this.recovery);
    }
    override checkInterruptedImages(options: InterruptedImagesOptions): Promise<InterruptedImage[]> {
      this.order.push('images');
      return super.checkInterruptedImages(options);
    }
  }

  it('finishes interrupted backups first (their guests must not wait), then checks the images', async () => {
    const driver = new RecoveringDriver(['Backup b of instance i: the instance is back as it was']);
    await new InterruptedImagesCheck(config, driver, new RecordingSink(), clock).check();
    expect(driver.order).toEqual(['backups', 'images']);
  });

  it('checks the images even when finishing the backups fails', async () => {
    const driver = new RecoveringDriver(new Error('journal unreadable'));
    expect(await new InterruptedImagesCheck(config, driver, new RecordingSink(), clock).check()).toEqual([]);
    expect(driver.order).toEqual(['backups', 'images']);
  });
});
