import { badInput } from '@snapdeck/domain';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusedReason } from './address-classification.js';

/** A URL whose name was resolved and checked: the address a delivery connects to (never resolved again). */
export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type Resolve = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Why a URL is not a webhook target (thrown as is at creation; a failed attempt's error at delivery). */
export class RefusedTarget extends Error {}

/** The URL's syntax: http or https, a host, no credentials. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RefusedTarget('is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RefusedTarget('must be http or https');
  if (url.username || url.password) throw new RefusedTarget('must not carry credentials (use the signature)');
  if (!url.hostname) throw new RefusedTarget('has no host');
  return url;
}

/**
 * Resolves the URL's name and checks EVERY address (one private address among public ones is enough to refuse:
 * which one a connection would take is not ours to choose), unless private targets are allowed. Called at
 * creation and again before every attempt, since a name's addresses may change; the attempt then connects to the
 * address checked here, so a second answer from DNS (rebinding) never reaches the socket.
 */
export async function checkWebhookTarget(
  text: string,
  allowPrivate: boolean,
  resolve: Resolve = systemResolve,
): Promise<CheckedTarget> {
  const url = parseWebhookUrl(text);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new RefusedTarget(`host ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (addresses.length === 0) throw new RefusedTarget(`host ${host} does not resolve`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const reason = refusedReason(address);
      if (reason) throw new RefusedTarget(`resolves to ${address}, a ${reason} address (refused)`);
    }
  }
  const first = addresses[0];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** checkWebhookTarget for a client's input: BAD_USER_INPUT naming `url`. */
export async function checkWebhookUrlInput(
  text: string,
  allowPrivate: boolean,
  resolve?: Resolve,
): Promise<CheckedTarget> {
  try {
    return await checkWebhookTarget(text, allowPrivate, resolve);
  } catch (error) {
    if (error instanceof RefusedTarget) throw badInput(`url ${error.message}`, 'url');
    throw error;
  }
}
