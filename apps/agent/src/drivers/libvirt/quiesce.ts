import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError } from '../volume-driver.js';
import type { Virsh } from './virsh.js';

/** Quiesce was asked for and could not be done; nothing was taken. */
export class QuiesceError extends DriverError {
  constructor(message: string) {
    super(message);
    this.name = 'QuiesceError';
  }
}

/** Milliseconds since `start` (a performance.now() reading), to 0.01 ms. */
export function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/**
 * Runs `take` with the guest's file systems frozen when asked: freeze first (a guest agent that does not
 * answer is a QuiesceError and `take` is not run), thaw always. `take` resolves with its QEMU command's
 * duration (virsh -t); the guest's pause is that, or freeze → thaw when quiesced.
 */
export async function withQuiesce(
  virsh: Virsh,
  instanceId: string,
  domain: string,
  quiesce: boolean,
  take: () => Promise<number | undefined>,
): Promise<{ quiesced: boolean; guestPauseMs: number }> {
  if (!quiesce) {
    const t0 = performance.now();
    const commandMs = await take();
    return {
      quiesced: false,
      guestPauseMs: commandMs !== undefined && Number.isFinite(commandMs) ? commandMs : elapsed(t0),
    };
  }
  const t0 = performance.now();
  try {
    await virsh.run(['domfsfreeze', domain], { timeoutMs: 60_000 });
  } catch (error) {
    // A freeze that failed half-way may still have frozen something: one thaw, its answer does not matter.
    await virsh.run(['domfsthaw', domain]).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    if (/agent/i.test(reason)) {
      throw new QuiesceError(
        `quiesce requested but the QEMU guest agent of instance ${instanceId} does not answer (${reason}); no snapshot was taken`,
      );
    }
    throw new QuiesceError(`quiesce of instance ${instanceId} failed (${reason}); no snapshot was taken`);
  }
  // Thaw always, whether the snapshot worked or not; the snapshot's own error matters more than thaw's.
  let taken = false;
  let takeError: unknown;
  try {
    await take();
    taken = true;
  } catch (error) {
    takeError = error;
  }
  let thawError: string | undefined;
  await thaw(virsh, domain).catch((error: unknown) => {
    thawError = error instanceof Error ? error.message : JSON.stringify(error);
  });
  if (!taken) throw takeError;
  if (thawError !== undefined) {
    const reason = thawError;
    throw new DriverError(
      `the snapshot of instance ${instanceId} was taken but its file systems could not be thawed: ${reason}`,
      true,
    );
  }
  return { quiesced: true, guestPauseMs: elapsed(t0) };
}

/** Thaws the guest's file systems, three tries 200 ms apart (a no-op on a thawed guest). */
export async function thaw(virsh: Virsh, domain: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await virsh.run(['domfsthaw', domain], { timeoutMs: 60_000 });
      return;
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw lastError;
}
