/** Log levels an operator picks with LOG_LEVEL (pino's names; Nest's `verbose` lines are below `debug`). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** LOG_FORMAT: one JSON object a line, or pino-pretty's coloured lines for a developer's terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
