import { eventually, mustQuery } from './graphql-client.js';
import type { ApiTarget } from './stack.js';

export interface CreatedInstance {
  id: string;
  name: string;
  volumes: Array<{ id: string; name: string; type: string }>;
}

/** Creates an instance and waits until its volumes exist on disk (STOPPED). */
export async function createInstance(
  stack: ApiTarget,
  token: string,
  input: {
    environmentId: string;
    name: string;
    rootDiskSizeGiB?: number;
    dataDiskSizesGiB?: number[];
    hostId?: string;
    cpuCount?: number;
    memoryMiB?: number;
  },
): Promise<CreatedInstance> {
  const { createInstance } = await mustQuery<{ createInstance: { instance: { id: string } } }>(
    stack.url,
    token,
    `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } job { id } } }`,
    { input: { rootDiskSizeGiB: 1, ...input } },
  );
  return eventually(
    async () => {
      const { instance } = await mustQuery<{ instance: CreatedInstance & { state: string } }>(
        stack.url,
        token,
        `query($id: ID!) { instance(id: $id) { id name state volumes { id name type } } }`,
        { id: createInstance.instance.id },
      );
      if (instance.state === 'ERROR') throw new Error(`instance ${instance.id} failed to provision`);
      return instance.state === 'STOPPED' ? instance : null;
    },
    20000,
    'instance to be STOPPED',
  );
}

export const SNAPSHOT_FIELDS =
  'id name description state error createdAt completedAt volume { id state } job { id status error }';

export async function snapshotById(stack: ApiTarget, token: string, id: string) {
  const { snapshot } = await mustQuery<{ snapshot: Record<string, any> | null }>(
    stack.url,
    token,
    `query($id: ID!) { snapshot(id: $id) { ${SNAPSHOT_FIELDS} } }`,
    { id },
  );
  return snapshot;
}

/** Waits until the snapshot reaches `state` (or leaves every listing, for `null`). */
export function waitForSnapshot(stack: ApiTarget, token: string, id: string, state: string | null, timeoutMs = 20000) {
  return eventually(
    async () => {
      const snapshot = await snapshotById(stack, token, id);
      if (state === null) return snapshot === null ? { gone: true } : null;
      if (snapshot && snapshot.state !== state && ['ERROR'].includes(snapshot.state) && state !== 'ERROR') {
        throw new Error(`snapshot ${id} is ERROR: ${snapshot.error}`);
      }
      return snapshot?.state === state ? snapshot : null;
    },
    timeoutMs,
    `snapshot ${id} to be ${state ?? 'gone'}`,
  );
}
