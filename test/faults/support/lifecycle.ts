import { FaultStack, type FaultStackOptions } from './fault-stack.js';

/** Minutes a campaign may take, set-up included: jest fails it (and afterAll still cleans up) beyond this. */
export const CAMPAIGN_TIMEOUT_MS = 6 * 60_000;
const START_TIMEOUT_MS = 3 * 60_000;

/**
 * A fresh installation for the enclosing describe: started in beforeAll, stopped in afterAll (processes
 * killed, temp folders removed; cleanup.ts does it at exit if afterAll never runs). Each campaign has its own,
 * so one campaign's damage never shows up in another's row.
 */
export function useFaultStack(options: FaultStackOptions): () => FaultStack {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    stack = await FaultStack.start(options);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
  }, START_TIMEOUT_MS);
  return () => {
    if (!stack) throw new Error('the fault stack did not start');
    return stack;
  };
}
