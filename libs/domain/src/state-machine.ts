import { DomainError, ErrorCode } from './errors.js';

/**
 * A state machine as a plain transition table: `transitions[from]` lists every state `from` may move to.
 * Persisting a move is the repositories' job (a conditional UPDATE); this only says whether it is allowed.
 */
export class StateMachine<S extends string> {
  constructor(
    readonly resource: string,
    private readonly transitions: Readonly<Record<S, readonly S[]>>,
  ) {}

  canTransition(from: S, to: S): boolean {
    return this.transitions[from].includes(to);
  }

  /** The states from which `to` can be reached: the `WHERE state IN (…)` of a conditional update. */
  sourcesOf(to: S): S[] {
    return (Object.keys(this.transitions) as S[]).filter((from) => this.canTransition(from, to));
  }

  assertTransition(from: S, to: S): void {
    if (!this.canTransition(from, to)) {
      throw new DomainError(ErrorCode.CONFLICT, `${this.resource} cannot move from ${from} to ${to}`);
    }
  }

  states(): S[] {
    return Object.keys(this.transitions) as S[];
  }
}
