/**
 * Issue 11, the fault suite: kill -9 of a libvirt agent at a random moment of createInstanceSnapshot (a
 * recovery point of a running instance: a real libvirtd domain with no guest OS), 20 rounds. The domains
 * outlive the agent (libvirtd runs them), as on a real node.
 */
import { describeWith } from '@snapdeck/testing';
import { forgetDomains, forgetDomainsNow } from '../support/libvirt.js';
import { Campaign } from './support/campaign.js';
import { atExit } from './support/cleanup.js';
import { DATABASE, type FaultStack } from './support/fault-stack.js';
import { useFaultStack, CAMPAIGN_TIMEOUT_MS } from './support/lifecycle.js';
import {
  createInstance,
  CREATE_RECOVERY_POINT,
  hostIds,
  memberOf,
  startInstance,
  stopForChecks,
} from './support/operations.js';
import { waitFor } from './support/ports.js';
import { killAgentMidOperation } from './support/rounds.js';
import { judge, SETTLE_SECONDS } from './support/verdict.js';

const HOST = 'kvm-faults-live';
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 20);
const INSTANCES = 2;

/** Waits (at most the settle window) until the instance is RUNNING with every volume READY. */
async function instanceIdle(stack: FaultStack, instanceId: string): Promise<boolean> {
  return waitFor(
    async () => {
      const rows = await stack.postgres.query<{ instance: string; volume: string }>(
        DATABASE,
        'SELECT i.state AS instance, v.state AS volume FROM instances i JOIN volumes v ON v.instance_id = i.id WHERE i.id = $1',
        [instanceId],
      );
      return rows.length > 0 && rows.every((r) => r.instance === 'RUNNING' && r.volume === 'READY');
    },
    SETTLE_SECONDS * 1000,
    `instance ${instanceId} to be idle`,
    100,
  ).catch(() => false);
}

describeWith(['qemu-img', 'libvirt'], 'fault campaign: kill -9 of the agent mid-recovery point', () => {
  const stack = useFaultStack({ hosts: [HOST], driver: 'libvirt' });
  const instanceIds: string[] = [];
  // Domains are libvirtd's, not ours: destroy them however the campaign ends.
  atExit(() => forgetDomainsNow(instanceIds));
  afterAll(() => forgetDomains(instanceIds), 120_000);

  it(
    `${ROUNDS} rounds of createInstanceSnapshot on running instances`,
    async () => {
      const { token, environmentId } = await memberOf(stack());
      const hostId = (await hostIds(stack())).get(HOST)!;
      for (let i = 0; i < INSTANCES; i++) {
        const vm = await createInstance(stack(), token, { environmentId, hostId, dataDiskSizesGiB: [1] });
        instanceIds.push(vm.id);
        await startInstance(stack(), token, vm.id);
      }
      const campaign = new Campaign('agent kill -9 mid-recovery point (libvirt)', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        async (round) => {
          const instanceId = instanceIds[round % instanceIds.length];
          await instanceIdle(stack(), instanceId);
          await campaign.submit(token, CREATE_RECOVERY_POINT, { instanceId });
        },
        400,
      );
      // `qemu-img check` of an image a running QEMU holds reads its unflushed refcounts as leaks: stop the
      // instances first (their jobs are not the campaign's), so the check reads what is really on disk.
      const settleFrom = Date.now();
      // One left busy is the verdict's to report (stuck), not a reason to stop here.
      const idle: string[] = [];
      for (const id of instanceIds) if (await instanceIdle(stack(), id)) idle.push(id);
      await stopForChecks(stack(), token, idle, (line) => campaign.note(line));
      expect(await judge(campaign, settleFrom)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});
