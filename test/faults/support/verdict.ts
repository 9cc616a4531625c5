import { auditEveryHost } from './audit.js';
import type { Campaign } from './campaign.js';
import { outcomesOf, secondsToRecover, settled, transitionalRows } from './database-checks.js';
import { damagedImages, driftBetweenRowsAndDisks } from './disk-checks.js';
import { TIMINGS } from './fault-stack.js';
import { waitFor } from './ports.js';
import { keepLogs, record } from './report.js';

/** Beyond lease + reconcile interval: a re-sent job's own run time and one more reconcile pass. */
export const MARGIN_SECONDS = 15;
export const SETTLE_SECONDS = TIMINGS.JOB_LEASE_SECONDS + TIMINGS.RECONCILE_INTERVAL_SECONDS + MARGIN_SECONDS;
/** How long all must stay final, with no new job, before the checks read it (see settled). */
const QUIET_MS = 2000;

/**
 * The end of every campaign: waits until everything is final (at most lease + reconcile + margin after the
 * last fault), then checks the five promises: nothing stuck, nothing lost, the audit finds nothing,
 * every image passes `qemu-img check`, and the api answers /ready without another restart (and the campaign's
 * `extra` promises). Records the
 * campaign's row and returns every broken promise, in words (empty when all hold).
 */
export async function judge(
  campaign: Campaign,
  settleFrom = campaign.lastFault,
  /** A campaign's own promises beyond the common ones, checked once everything settled. */
  extra: () => Promise<string[]> = async () => [],
): Promise<string[]> {
  const { stack } = campaign;
  const deadline = settleFrom + SETTLE_SECONDS * 1000;
  await waitFor(
    () => settled(stack, campaign, QUIET_MS),
    Math.max(QUIET_MS + 1000, deadline - Date.now()),
    'all final',
    250,
  ).catch(() => undefined);
  const ready = await waitFor(() => stack.ready(), 30_000, '/ready').catch(() => false);
  const stuck = await transitionalRows(stack);
  const outcomes = await outcomesOf(stack, campaign.accepted);
  const recover = await secondsToRecover(stack, campaign.accepted);
  const audit = await auditEveryHost(stack);
  const damaged = await damagedImages(stack);
  const drift = await driftBetweenRowsAndDisks(stack);
  const restarted = stack.api.starts !== campaign.apiStarts;

  const problems: string[] = [];
  const stuckTotal = Object.values(stuck).reduce((a, b) => a + b, 0);
  if (stuckTotal > 0) problems.push(`stuck beyond ${SETTLE_SECONDS} s after the last fault: ${JSON.stringify(stuck)}`);
  if (outcomes.lost.length > 0) problems.push(`lost: ${outcomes.lost.slice(0, 10).join('; ')}`);
  if (audit.error) problems.push(`storage audit: ${audit.error}`);
  else if (audit.findings) problems.push(`storage audit findings: ${audit.details.join('; ')}`);
  if (damaged.length > 0) problems.push(`qemu-img check fails: ${damaged.slice(0, 10).join('; ')}`);
  if (drift.length > 0) problems.push(`rows and disks disagree: ${drift.slice(0, 10).join('; ')}`);
  if (!ready) problems.push('/ready does not answer 200');
  if (restarted) problems.push('the api was restarted by something other than the campaign');
  problems.push(...(await extra()));

  record({
    campaign: campaign.name,
    rounds: campaign.rounds,
    succeeded: outcomes.succeeded,
    failed: outcomes.failed,
    refused: [...campaign.refused].map(([code, n]) => `${code} ${n}`).join(', '),
    stuck: stuckTotal,
    lost: outcomes.lost.length,
    findings: audit.findings,
    drift: drift.length,
    damagedImages: damaged.length,
    recoverSeconds: recover,
    ready: ready && !restarted,
    seed: campaign.seed,
    verdict: problems.length === 0 ? 'pass' : `FAIL (${problems.map((p) => p.split(':')[0]).join('; ')})`,
  });
  for (const problem of problems) console.log(`[faults] ${campaign.name}: ${problem}`);
  if (problems.length > 0) {
    const kept = await keepLogs(stack, campaign.name);
    console.log(`[faults] ${campaign.name}: logs kept in ${kept}\n--- api log tail:\n${stack.api.tail(15)}`);
  }
  for (const note of campaign.notes) console.log(`[faults] ${campaign.name} note: ${note}`);
  return problems;
}
