/**
 * Issue 11, the fault suite: the private Redis SIGKILLed during a burst of 50 createSnapshot over two agents,
 * then started again with its append-only file kept (nothing acknowledged may be lost) or deleted (it comes
 * back empty: every queued job and unread result is gone, and the database must still bring every one home).
 */
import { describeWith } from '@snapdeck/testing';
import { Campaign } from './support/campaign.js';
import { volumesOnEveryHost } from './support/fleet.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import { CREATE_SNAPSHOT } from './support/operations.js';
import { sleep } from './support/ports.js';
import { judge } from './support/verdict.js';

const HOSTS = ['kvm-faults-a', 'kvm-faults-b'];
/** 2 hosts × 5 instances × (ROOT + 4 data disks) = the burst of 50 operations, one per volume. */
const PER_HOST = 5;
const DATA_DISKS = 4;
const SPACING_MS = 20;

for (const keepAof of [true, false]) {
  const name = `Redis kill -9, restarted ${keepAof ? 'with its AOF' : 'empty (AOF deleted)'}`;
  describeWith(['qemu-img'], `fault campaign: ${name}`, () => {
    const stack = useFaultStack({ hosts: HOSTS });
    it(
      'during a burst of 50 createSnapshot',
      async () => {
        const { token, volumes } = await volumesOnEveryHost(stack(), PER_HOST, DATA_DISKS);
        const campaign = new Campaign(name, stack());
        // The burst spread over ~1 s, the kill somewhere in it.
        const requests = volumes.map(async (volumeId, i) => {
          await sleep(i * SPACING_MS);
          return campaign.submit(token, CREATE_SNAPSHOT, { volumeId });
        });
        await sleep(campaign.delay(100, 900));
        campaign.fault();
        await stack().redis.kill();
        await sleep(campaign.delay(500, 2000));
        await stack().redis.restart(keepAof);
        const back = Date.now();
        campaign.note(`Redis down ${((back - campaign.lastFault) / 1000).toFixed(2)} s`);
        await Promise.all(requests);
        campaign.rounds = 1;
        expect(await judge(campaign, back)).toEqual([]);
      },
      CAMPAIGN_TIMEOUT_MS,
    );
  });
}
