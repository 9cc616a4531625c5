/**
 * Issue 11, the fault suite: kill -9 of the agent at a random moment of createSnapshot, deleteSnapshot,
 * deployInstance and createTemplateFromSnapshot (qemu-img driver, real qcow2 images), 20 rounds each, every
 * campaign on an installation of its own. After each: nothing stuck, nothing lost, no audit finding, every
 * image sound, /ready without a restart (support/verdict.ts).
 */
import { describeWith } from '@snapdeck/testing';
import { Campaign } from './support/campaign.js';
import {
  completed,
  createInstance,
  CREATE_SNAPSHOT,
  CREATE_TEMPLATE,
  DELETE_SNAPSHOT,
  DEPLOY_INSTANCE,
  hostIds,
  memberOf,
  uniqueName,
  type Instance,
} from './support/operations.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import { killAgentMidOperation, volumeReady } from './support/rounds.js';
import { judge } from './support/verdict.js';

const HOST = 'kvm-faults';
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 20);
/** The instances whose ROOT volumes take turns, so a round rarely waits for the previous one's volume. */
const INSTANCES = 5;

/** A member of a fresh organization with `count` stopped instances on the campaign's host. */
async function setUp(stack: ReturnType<ReturnType<typeof useFaultStack>>, count: number) {
  const member = await memberOf(stack);
  const hostId = (await hostIds(stack)).get(HOST)!;
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    instances.push(await createInstance(stack, member.token, { environmentId: member.environmentId, hostId }));
  }
  const roots = instances.map((vm) => vm.volumes.find((v) => v.type === 'ROOT')!.id);
  return { ...member, hostId, roots };
}

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-createSnapshot', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds`,
    async () => {
      const { token, roots } = await setUp(stack(), INSTANCES);
      const campaign = new Campaign('agent kill -9 mid-createSnapshot', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        async (round) => {
          const volumeId = roots[round % roots.length];
          await volumeReady(stack(), volumeId);
          await campaign.submit(token, CREATE_SNAPSHOT, { volumeId });
        },
        200,
      );
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-deleteSnapshot', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds`,
    async () => {
      const { token, roots } = await setUp(stack(), INSTANCES);
      const snapshots: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        snapshots.push(await completed(stack(), token, CREATE_SNAPSHOT, { volumeId: roots[i % roots.length] }));
      }
      const campaign = new Campaign('agent kill -9 mid-deleteSnapshot', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        (round) => campaign.submit(token, DELETE_SNAPSHOT, { snapshotId: snapshots[round] }),
        200,
      );
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-createTemplateFromSnapshot', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds`,
    async () => {
      const { token, roots } = await setUp(stack(), 1);
      const snapshotId = await completed(stack(), token, CREATE_SNAPSHOT, { volumeId: roots[0] });
      const campaign = new Campaign('agent kill -9 mid-createTemplateFromSnapshot', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        () => campaign.submit(token, CREATE_TEMPLATE, { snapshotId, name: uniqueName('tpl') }),
        300,
      );
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-deployInstance', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds`,
    async () => {
      const { token, environmentId, hostId, roots } = await setUp(stack(), 1);
      const snapshotId = await completed(stack(), token, CREATE_SNAPSHOT, { volumeId: roots[0] });
      const templateId = await completed(stack(), token, CREATE_TEMPLATE, { snapshotId, name: uniqueName('tpl') });
      const campaign = new Campaign('agent kill -9 mid-deployInstance', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        () => campaign.submit(token, DEPLOY_INSTANCE, { templateId, environmentId, hostId, name: uniqueName('dep') }),
        300,
      );
      expect(await judge(campaign)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});
