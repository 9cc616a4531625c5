/**
 * Issue 11, the fault suite: kill -9 of the api while mutations are in flight (some answered, some cut off),
 * and while the agents are reporting results (the api gone between dispatch and result), then a start again.
 * Two agents; every mutation carries an Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import { describeWith } from '@snapdeck/testing';
import { Campaign } from './support/campaign.js';
import { volumesOnEveryHost } from './support/fleet.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import { CREATE_SNAPSHOT } from './support/operations.js';
import { sleep } from './support/ports.js';
import { volumeReady } from './support/rounds.js';
import { judge } from './support/verdict.js';

const HOSTS = ['kvm-faults-a', 'kvm-faults-b'];
const ROUNDS = Number(process.env.FAULT_API_ROUNDS ?? 10);
/** Instances per host: one createSnapshot per ROOT volume per round. */
const PER_HOST = 5;

/** One createSnapshot per volume, the i-th sent `i * spacingMs` after the first. */
function burst(campaign: Campaign, token: string, volumes: string[], spacingMs = 0) {
  return volumes.map(async (volumeId, i) => {
    await sleep(i * spacingMs);
    return campaign.submit(token, CREATE_SNAPSHOT, { volumeId }, { idempotencyKey: randomUUID(), timeoutMs: 15_000 });
  });
}

describeWith(['qemu-img'], 'fault campaign: kill -9 of the api mid-mutation', () => {
  const stack = useFaultStack({ hosts: HOSTS });
  it(
    `${ROUNDS} rounds of ${HOSTS.length * PER_HOST} concurrent createSnapshot, the api killed among them`,
    async () => {
      const { token, volumes } = await volumesOnEveryHost(stack(), PER_HOST);
      const campaign = new Campaign('api kill -9 mid-mutation', stack());
      for (let round = 0; round < ROUNDS; round++) {
        for (const volumeId of volumes) await volumeReady(stack(), volumeId);
        const requests = burst(campaign, token, volumes, 60);
        // The kill lands somewhere in the ~0.6 s the requests are spread over: some answered, some cut off
        // mid-way, some refused at the door while the api is down.
        await sleep(campaign.delay(100, 600));
        campaign.fault();
        await stack().restartApi();
        await Promise.all(requests);
        campaign.rounds += 1;
      }
      campaign.apiStarts = stack().api.starts;
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

describeWith(['qemu-img'], 'fault campaign: kill -9 of the api mid-result', () => {
  const stack = useFaultStack({ hosts: HOSTS });
  it(
    `${ROUNDS} rounds: ${HOSTS.length * PER_HOST} snapshots accepted, the api killed while agents report`,
    async () => {
      const { token, volumes } = await volumesOnEveryHost(stack(), PER_HOST);
      const campaign = new Campaign('api kill -9 mid-result', stack());
      for (let round = 0; round < ROUNDS; round++) {
        for (const volumeId of volumes) await volumeReady(stack(), volumeId);
        await Promise.all(burst(campaign, token, volumes));
        await sleep(campaign.delay(0, 200));
        campaign.fault();
        await stack().restartApi();
        campaign.rounds += 1;
      }
      campaign.apiStarts = stack().api.starts;
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});
