import { ALL_ORGANIZATIONS, type Repositories } from '@snapdeck/persistence';

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * A job's failure is read by every user of the job's organization (Job.error and the failure event). A clone
 * across organizations (support staff copying a customer's snapshot) runs in the clone's organization but on the
 * customer's snapshot and volume, which the agent names by id when it fails: those ids, and any other id of a
 * snapshot, volume or instance of another organization, are replaced, so that the clone's READ_ONLY and MEMBER
 * users learn nothing of the customer from a failure either. The api's log keeps the agent's own words.
 */
export async function withoutForeignIds(
  tx: Repositories,
  organizationId: string | null,
  message: string,
): Promise<string> {
  if (organizationId === null) return message;
  const ids = [...new Set((message.match(UUIDS) ?? []).map((id) => id.toLowerCase()))];
  if (ids.length === 0) return message;
  const foreign = new Map<string, string>();
  const kinds = [
    ['snapshot', await tx.snapshots.findByIds(ALL_ORGANIZATIONS, ids)],
    ['volume', await tx.volumes.findByIds(ALL_ORGANIZATIONS, ids)],
    ['instance', await tx.instances.findByIds(ALL_ORGANIZATIONS, ids)],
  ] as const;
  for (const [kind, rows] of kinds) {
    for (const row of rows) {
      if (row.organizationId !== organizationId) foreign.set(row.id.toLowerCase(), `<another organization's ${kind}>`);
    }
  }
  if (foreign.size === 0) return message;
  return message.replace(UUIDS, (id) => foreign.get(id.toLowerCase()) ?? id);
}
