/**
 * Issue 11, the fault suite, item 1: an agent frozen (SIGSTOP) with two snapshots in flight until its lease
 * ran out and its host went DOWN (so the api failed or re-sent the work), then resumed (SIGCONT). What the
 * frozen agent still holds must not change a disk behind the database's back: no tag of an ERROR snapshot,
 * no COMPLETED snapshot without its tag.
 */
import { describeWith } from '@snapdeck/testing';
import { Campaign } from './support/campaign.js';
import { DATABASE, TIMINGS } from './support/fault-stack.js';
import { volumesOnEveryHost } from './support/fleet.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import { CREATE_SNAPSHOT } from './support/operations.js';
import { sleep, waitFor } from './support/ports.js';
import { volumeReady } from './support/rounds.js';
import { judge } from './support/verdict.js';

const HOST = 'kvm-faults';
const ROUNDS = Number(process.env.FAULT_PAUSE_ROUNDS ?? 3);
/** Past the lease, and past the host's DOWN threshold, with a reconcile pass to spare. */
const FROZEN_MS =
  (Math.max(TIMINGS.JOB_LEASE_SECONDS, TIMINGS.HOST_DOWN_AFTER_SECONDS) + 2 * TIMINGS.RECONCILE_INTERVAL_SECONDS + 2) *
  1000;

describeWith(['qemu-img'], 'fault campaign: agent SIGSTOPped past its lease, then resumed', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds with two snapshots in flight`,
    async () => {
      // Two ROOT volumes per round, so no round waits for another's.
      const { token, volumes } = await volumesOnEveryHost(stack(), 2 * ROUNDS);
      const campaign = new Campaign('agent SIGSTOP past the lease, SIGCONT', stack());
      const agent = stack().agent(HOST);
      let resumedAt = Date.now();
      for (let round = 0; round < ROUNDS; round++) {
        await waitFor(
          async () =>
            (
              await stack().postgres.query<{ state: string }>(DATABASE, 'SELECT state FROM hosts WHERE name = $1', [
                HOST,
              ])
            )[0]?.state === 'UP',
          60_000,
          `host ${HOST} to be UP`,
        );
        const pair = volumes.slice(2 * round, 2 * round + 2);
        for (const volumeId of pair) await volumeReady(stack(), volumeId);
        await Promise.all(pair.map((volumeId) => campaign.submit(token, CREATE_SNAPSHOT, { volumeId })));
        // A moment for the agent to take the deliveries (or not): then it freezes holding what it took.
        await sleep(campaign.delay(0, 60));
        campaign.fault();
        await agent.signal('SIGSTOP');
        await sleep(FROZEN_MS);
        await agent.signal('SIGCONT');
        resumedAt = Date.now();
        campaign.rounds += 1;
      }
      expect(await judge(campaign, resumedAt)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});
