// Shared by the api and the agent: in a process that runs both (npm start), the first one to start makes the
// root logger, so both must write the same lines.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { LogFormat, LogLevelName } from '@snapdeck/config';
import { pino, type DestinationStream, type LoggerOptions } from 'pino';

/** What a logging set-up is made of; tests pass their own destination to read the lines back. */
export interface LogSettings {
  LOG_LEVEL: LogLevelName;
  LOG_FORMAT: LogFormat;
}

/**
 * Header values that must never be written, wherever a request object ends up in a line (defence in depth:
 * the api's request serializer keeps no headers at all).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

/** One JSON object a line: `level` as a word, `time` in ISO 8601, `msg`; Nest's logger adds `context`. */
export function baseLoggerOptions(settings: LogSettings): LoggerOptions {
  return {
    level: settings.LOG_LEVEL,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/**
 * Where the lines go: `destination` (stdout by default) as JSON, or through pino-pretty for LOG_FORMAT=pretty.
 * pino-pretty is a dev dependency, loaded only when asked for.
 */
export function logDestination(
  format: LogFormat,
  destination?: DestinationStream,
  load: (id: string) => unknown = createRequire(import.meta.url),
): DestinationStream {
  if (format === 'json') return destination ?? pino.destination({ dest: 1, sync: true });
  return prettyStream(destination, load);
}

type PinoPretty = typeof import('pino-pretty');

function prettyStream(destination: DestinationStream | undefined, load: (id: string) => unknown): DestinationStream {
  let pretty: PinoPretty;
  try {
    pretty = load('pino-pretty') as PinoPretty;
  } catch (error) {
    throw new Error(
      'LOG_FORMAT=pretty needs the pino-pretty package, a development dependency that is not installed here ' +
        `(${(error as Error).message.split('\n')[0]}). Install it with \`npm install --save-dev pino-pretty\`, ` +
        'or unset LOG_FORMAT to write JSON lines.',
      { cause: error },
    );
  }
  return pretty({
    destination: destination === undefined ? 1 : asWritable(destination),
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/** pino takes anything with `write`; pino-pretty wants a real stream. */
function asWritable(destination: DestinationStream): Writable {
  if (destination instanceof Writable) return destination;
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      destination.write(chunk.toString());
      done();
    },
  });
}
