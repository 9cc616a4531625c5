import { createInstance, hostIds, memberOf } from './operations.js';
import type { FaultStack } from './fault-stack.js';

/** A member of a fresh organization and `perHost` stopped instances on every host: their ROOT volumes. */
export async function volumesOnEveryHost(stack: FaultStack, perHost: number, dataDisks = 0) {
  const member = await memberOf(stack);
  const volumes: string[] = [];
  for (const hostId of (await hostIds(stack)).values()) {
    for (let i = 0; i < perHost; i++) {
      const vm = await createInstance(stack, member.token, {
        environmentId: member.environmentId,
        hostId,
        dataDiskSizesGiB: Array.from({ length: dataDisks }, () => 1),
      });
      volumes.push(...vm.volumes.map((v) => v.id));
    }
  }
  return { ...member, volumes };
}
