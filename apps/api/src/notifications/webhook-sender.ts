import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './webhook-target.js';

/** How one POST ended: an answer (any status), or no answer (connection refused, timeout, reset). */
export type SendResult = { answered: true; status: number } | { answered: false; error: string };

/** What a receiver may answer in its body that we read: the rest is dropped (a receiver cannot make us buffer). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to the checked target, connecting to its checked address (the name is kept for the Host header
 * and TLS, so certificates are verified against it). Redirects are never followed: a 3xx is an answer like any
 * other, which the worker counts as a failed attempt.
 */
export function postJson(
  target: CheckedTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SendResult> {
  const pinned: LookupFunction = (_hostname, options, callback) => {
    // Node ≥ 20 asks for every address when it may try several families (autoSelectFamily).
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Snapdeck-Webhooks/1',
          ...headers,
        },
        agent: false,
      },
      (res: IncomingMessage) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => done({ answered: true, status: res.statusCode ?? 0 }));
        res.on('error', () => done({ answered: true, status: res.statusCode ?? 0 }));
      },
    );
    // One bound for the whole attempt (connect, send, answer), not per socket inactivity.
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      done({ answered: false, error: error.code ? `${error.code}: ${error.message}` : error.message }),
    );
    req.end(body);
  });
}
