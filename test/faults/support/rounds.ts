import type { Campaign } from './campaign.js';
import { DATABASE, type FaultStack } from './fault-stack.js';
import { sleep, waitFor } from './ports.js';
import { SETTLE_SECONDS } from './verdict.js';

/** Waits (at most the settle window) until the volume is READY again, so the next round's request may start. */
export async function volumeReady(stack: FaultStack, volumeId: string): Promise<boolean> {
  return waitFor(
    async () => {
      const [row] = await stack.postgres.query<{ state: string }>(DATABASE, 'SELECT state FROM volumes WHERE id = $1', [
        volumeId,
      ]);
      return row?.state === 'READY';
    },
    SETTLE_SECONDS * 1000,
    `volume ${volumeId} to be READY`,
    100,
  ).catch(() => false);
}

/**
 * `rounds` times: send one request, wait a random moment (from the campaign's seed) while the agent works on
 * it, SIGKILL the agent and start it again, as a node's supervisor would.
 */
export async function killAgentMidOperation(
  campaign: Campaign,
  host: string,
  rounds: number,
  sendOne: (round: number) => Promise<unknown>,
  maxDelayMs: number,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await sendOne(round);
    await sleep(campaign.delay(0, maxDelayMs));
    campaign.fault();
    await campaign.stack.crashAgent(host);
    campaign.rounds += 1;
  }
}
