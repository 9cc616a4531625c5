import type { FaultStack } from './fault-stack.js';
import { acceptedIds, send, type MutationKind } from './operations.js';
import type { AskOptions } from './graphql.js';
import { codeOf, messageOf, type Answer } from './graphql.js';

/** A request the api accepted: its job must end SUCCEEDED or FAILED, its resource in a final state. */
export interface Accepted {
  kind: MutationKind;
  resourceId: string;
  jobId: string;
  /** When the fault that this request lived through struck (ms since epoch); recovery is measured from it. */
  faultAt?: number;
}

/**
 * mulberry32: a small seeded generator, so a failing campaign can be replayed with FAULT_SEED=<seed> (every
 * campaign prints the seed it used).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One campaign's book-keeping: what was sent, what the api answered (accepted or which code), when each fault
 * struck. The checks read it against the database once the campaign is over.
 */
export class Campaign {
  readonly seed: number;
  readonly accepted: Accepted[] = [];
  /** Answers that were not an acceptance, by code (CONFLICT, SERVICE_UNAVAILABLE, TRANSPORT, …). */
  readonly refused = new Map<string, number>();
  readonly faults: number[] = [];
  readonly notes: string[] = [];
  rounds = 0;
  /** The api's start count when the campaign's faults are over: /ready must answer without another start. */
  apiStarts = 0;
  private readonly random: () => number;

  constructor(
    readonly name: string,
    readonly stack: FaultStack,
  ) {
    const fromEnv = Number(process.env.FAULT_SEED);
    this.seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
    this.random = seededRandom(this.seed);
    this.apiStarts = stack.api.starts;
    console.log(`[faults] ${name}: seed ${this.seed} (replay with FAULT_SEED=${this.seed})`);
  }

  /** A whole number of milliseconds in [min, max], from the campaign's seed. */
  delay(min: number, max: number): number {
    return Math.round(min + this.random() * (max - min));
  }

  /** Records that a fault strikes now; requests accepted since the previous fault are measured from it. */
  fault(): number {
    const at = Date.now();
    this.faults.push(at);
    for (const a of this.accepted) a.faultAt ??= at;
    return at;
  }

  get lastFault(): number {
    return this.faults.at(-1) ?? Date.now();
  }

  note(text: string): void {
    this.notes.push(text);
    console.log(`[faults] ${this.name}: ${text}`);
  }

  /** Sends a mutation and records the answer; the accepted ids, or null when it was refused or got no answer. */
  async submit(
    token: string,
    kind: MutationKind,
    input: Record<string, unknown>,
    options: AskOptions = {},
  ): Promise<Accepted | null> {
    const sentAt = Date.now();
    const answer = await send(this.stack, token, kind, input, options);
    const ids = acceptedIds(kind, answer);
    if (!ids) {
      this.refuse(codeOf(answer) ?? 'NONE', answer);
      return null;
    }
    return this.accept(kind, ids, sentAt);
  }

  /** Records an acceptance of a request sent at `sentAt`: a fault since then is the one it lived through. */
  accept(kind: MutationKind, ids: { resourceId: string; jobId: string }, sentAt: number): Accepted {
    const accepted: Accepted = { kind, ...ids, faultAt: this.faults.find((at) => at >= sentAt) };
    this.accepted.push(accepted);
    return accepted;
  }

  /** Counts a refusal; the first answer of each code is kept as a note, to say what the api said. */
  refuse(code: string, answer?: Answer<unknown>): void {
    if (!this.refused.has(code) && answer) this.notes.push(`first ${code} answer: ${messageOf(answer).slice(0, 300)}`);
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }
}
