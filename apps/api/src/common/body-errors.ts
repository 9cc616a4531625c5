import { ErrorCode } from '@snapdeck/domain';
import type { NextFunction, Request, Response } from 'express';

/** The largest request body the api reads (body-parser's default, named here so refusals can say it). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** What body-parser puts on the errors it raises (http-errors). */
interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError & Error {
  const status = (error as BodyParserError | null)?.status;
  return error instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

/** The client's words for a body Express could not read; the type is body-parser's own. */
function messageOf(error: BodyParserError & Error): string {
  switch (error.type ?? '') {
    case 'entity.too.large':
      return `Request body is larger than the limit of ${Math.round((error.limit ?? BODY_LIMIT_BYTES) / 1024)} KiB`;
    case 'entity.parse.failed':
      return 'Request body is not valid JSON';
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return 'Request body has an unsupported charset or content encoding';
    case 'request.aborted':
      return 'Request body was aborted before it was complete';
    default:
      return 'Request body could not be read';
  }
}

/**
 * Express error handler behind the body parsers: a body over the limit (413), malformed JSON (400) and the
 * like answer as GraphQL does, JSON with `errors[].extensions.code`, instead of Express's HTML page with a
 * stack. Anything else goes on to Nest.
 */
export function bodyErrorHandler(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (!isBodyParserError(error) || res.headersSent) {
    next(error);
    return;
  }
  res
    .status(error.status!)
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message: messageOf(error), extensions: { code: ErrorCode.BAD_USER_INPUT } }] }));
}
