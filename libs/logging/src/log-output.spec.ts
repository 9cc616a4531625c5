import { pino } from 'pino';
import { baseLoggerOptions, logDestination } from './log-output.js';

function capture() {
  const written: string[] = [];
  return { written, stream: { write: (chunk: string) => void written.push(chunk) } };
}

describe('log output', () => {
  it('writes one JSON object a line: level as a word, ISO time, msg, and the fields given', () => {
    const { written, stream } = capture();
    const logger = pino(baseLoggerOptions({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }), logDestination('json', stream));
    logger.info({ context: 'Probe', jobId: 'j-1' }, 'hello');
    logger.debug('below the level');
    expect(written).toHaveLength(1);
    const line = JSON.parse(written[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'hello', context: 'Probe', jobId: 'j-1' });
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts authorization and cookie headers wherever a request object is logged', () => {
    const { written, stream } = capture();
    const logger = pino(baseLoggerOptions({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }), logDestination('json', stream));
    logger.info({ req: { headers: { authorization: 'Bearer s3cret', cookie: 'sid=c00kie', accept: '*/*' } } }, 'req');
    expect(written[0]).not.toMatch(/s3cret|c00kie/);
    expect(JSON.parse(written[0])).toMatchObject({ req: { headers: { accept: '*/*' } } });
  });

  it('writes lines for people with LOG_FORMAT=pretty', () => {
    const { written, stream } = capture();
    const logger = pino(
      baseLoggerOptions({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' }),
      logDestination('pretty', stream),
    );
    logger.debug({ context: 'JobRunner', jobId: 'j-2' }, 'job started');
    const text = written.join('');
    expect(text).toContain('[JobRunner] job started');
    expect(text).toContain('jobId: "j-2"');
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('says what to do when LOG_FORMAT=pretty but pino-pretty is not installed', () => {
    const missing = () => {
      throw new Error("Cannot find module 'pino-pretty'\nRequire stack: ...");
    };
    expect(() => logDestination('pretty', undefined, missing)).toThrow(
      /^LOG_FORMAT=pretty needs the pino-pretty package.*\(Cannot find module 'pino-pretty'\).*npm install --save-dev pino-pretty.*unset LOG_FORMAT/,
    );
  });
});
