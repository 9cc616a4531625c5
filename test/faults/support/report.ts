import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultStack } from './fault-stack.js';

/** One campaign's line of the suite's table. */
export interface ReportRow {
  campaign: string;
  rounds: number;
  succeeded: number;
  failed: number;
  /** Answers that were not an acceptance, by code. */
  refused: string;
  stuck: number;
  lost: number;
  /** The api's storage audit over every host; null: it could not be run. */
  findings: number | null;
  /** The suite's own comparison of rows and disks (disk-checks.ts). */
  drift: number;
  damagedImages: number;
  /** Seconds from a fault to all-final, worst case; null: not everything recovered. */
  recoverSeconds: number | null;
  ready: boolean;
  seed: number;
  verdict: string;
}

const COLUMNS: Array<[string, (r: ReportRow) => string]> = [
  ['campaign', (r) => r.campaign],
  ['rounds', (r) => String(r.rounds)],
  ['succeeded / failed', (r) => `${r.succeeded} / ${r.failed}`],
  ['refused', (r) => r.refused || '0'],
  ['stuck', (r) => String(r.stuck)],
  ['lost', (r) => String(r.lost)],
  ['audit findings', (r) => (r.findings === null ? 'no audit' : String(r.findings))],
  ['drift', (r) => String(r.drift)],
  ['damaged images', (r) => String(r.damagedImages)],
  ['recover (s)', (r) => (r.recoverSeconds === null ? 'not recovered' : r.recoverSeconds.toFixed(1))],
  ['/ready', (r) => (r.ready ? 'yes' : 'NO')],
  ['seed', (r) => String(r.seed)],
  ['verdict', (r) => r.verdict],
];

/** This jest run's rows (global setup gives each run a folder; every campaign file appends its rows there). */
const rowsFile = () => join(process.env.SNAPDECK_TEST_RUN_DIR ?? tmpdir(), 'fault-campaigns.jsonl');

/** Where the whole table is written after every campaign (git-ignored; docs/reliability.md quotes it). */
export const LAST_RUN = join(process.cwd(), 'test', 'faults', 'last-run.md');

export function tableOf(rows: ReportRow[]): string {
  const header = `| ${COLUMNS.map(([name]) => name).join(' | ')} |`;
  const rule = `|${COLUMNS.map(() => '---').join('|')}|`;
  const lines = rows.map((r) => `| ${COLUMNS.map(([, cell]) => cell(r).replace(/\|/g, '/')).join(' | ')} |`);
  return [header, rule, ...lines].join('\n');
}

/** Adds the row, prints the run's whole table so far and writes it to test/faults/last-run.md. */
export function record(row: ReportRow): void {
  appendFileSync(rowsFile(), `${JSON.stringify(row)}\n`);
  const rows = readFileSync(rowsFile(), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportRow);
  const table = tableOf(rows);
  writeFileSync(
    LAST_RUN,
    `# Fault campaigns, last run (${new Date().toISOString()})\n\n${table}\n\n` +
      'stuck: rows still transitional after lease + reconcile interval + margin; lost: accepted requests whose job ' +
      'or resource is not final; drift: rows and disks compared by the suite; refused: answers that were not an ' +
      'acceptance, by code.\n',
  );
  console.log(`[faults] campaigns so far:\n${table}`);
}

/** Copies a failed campaign's process logs (api, agents, Redis, PostgreSQL) out of its temp folder, git-ignored. */
export async function keepLogs(stack: FaultStack, campaign: string): Promise<string> {
  const target = join(process.cwd(), 'test', 'faults', 'last-run-logs', campaign.replace(/[^A-Za-z0-9-]+/g, '-'));
  await cp(join(stack.root, 'logs'), target, { recursive: true });
  await cp(join(stack.root, 'redis', 'redis.log'), join(target, 'redis.log')).catch(() => undefined);
  await cp(join(stack.postgres.dataDir, 'server.log'), join(target, 'postgres.log')).catch(() => undefined);
  return target;
}
