import { createServer } from 'node:net';

/**
 * A port in [from, to] that nothing on 127.0.0.1 listens on, tried in a random order. Keep ranges below the kernel's ephemeral ports (ip_local_port_range, 32768-60999
 * by default): a client's outgoing connection may take any of those as its local port, and a process restarted on
 * its old port then fails with EADDRINUSE (seen in CI with the api on 55300).
 */
export async function freePortIn(from: number, to: number): Promise<number> {
  const ports = Array.from({ length: to - from + 1 }, (_, i) => from + i).sort(() => Math.random() - 0.5);
  for (const port of ports) if (await isFree(port)) return port;
  throw new Error(`no free port in ${from}-${to}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An error that ends a `waitFor` at once instead of being retried (the awaited thing can no longer happen). */
export class Fatal extends Error {}

/** Polls `probe` every `everyMs` until it returns a truthy value, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}
