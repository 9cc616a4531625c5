import { MAX_PAGE_SIZE, type HostRepository } from '@snapdeck/persistence';

/** The names of every registered host, page by page (a host is a queue: the metrics and the dashboard list all). */
export async function allHostNames(hosts: HostRepository): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await hosts.list({ first: MAX_PAGE_SIZE, after });
    names.push(...page.items.map((h) => h.name));
    if (!page.hasNextPage) return names;
    after = page.endCursor;
  }
}
