import { type LookupAddress, type LookupAllOptions, lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Keeps a device from turning Herald into a proxy into the operator's network (PROTOCOL.md
 * "Web Push": an endpoint must start with one of PUSH_ALLOWED_ENDPOINTS).
 *
 * Two layers:
 * 1. **Prefixes**, checked when the subscription is registered, on the normalised URL (the one
 *    that is later called). A prefix that names a host ends at a boundary: `https://push.example`
 *    admits `https://push.example/…` and `https://push.example:8443/…`, never
 *    `https://push.example.evil.net/…` or `https://push.example@evil.net/…`.
 * 2. **Addresses**, when only a scheme-wide prefix matched (the default `https://`): loopback,
 *    private, link-local, CGNAT and multicast destinations are refused — as literals at
 *    registration, and as DNS answers at connect time (so a name that resolves inward, or is
 *    rebound to do so later, is refused too). An operator who names a host in a prefix (as the
 *    tests do with `http://127.0.0.1`) has chosen that destination deliberately.
 */

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** Whether an IP address is one a scheme-wide prefix must not reach. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) reaches the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1], 'ipv4');
  return blocked.check(address, 'ipv6');
}

/** Whether a URL's host is an internal literal (an IP in a refused range, or `localhost`). */
export function isInternalHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isInternalAddress(host);
}

const SCHEME_HOST = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

export interface PrefixMatch {
  /** The prefix names a host (not just a scheme): the destination was chosen by the operator. */
  hostAllowed: boolean;
}

/**
 * Which allowed prefix admits `href` (a normalised URL), or null. Scheme and host of a prefix
 * compare case-insensitively (URLs are normalised to lower case there).
 */
export function matchAllowedPrefix(href: string, prefixes: readonly string[]): PrefixMatch | null {
  let best: PrefixMatch | null = null;
  for (const raw of prefixes) {
    const m = SCHEME_HOST.exec(raw);
    const prefix = m ? m[1].toLowerCase() + m[2].toLowerCase() + raw.slice(m[0].length) : raw;
    if (!href.startsWith(prefix)) continue;
    const hostNamed = m !== null && m[2] !== '';
    const rest = href.slice(prefix.length);
    // A prefix that stops inside the authority or a path segment must stop at its boundary.
    if (hostNamed && !prefix.endsWith('/') && rest !== '' && !/^[/:?#]/.test(rest)) continue;
    if (hostNamed) return { hostAllowed: true };
    best = { hostAllowed: false };
  }
  return best;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that drops internal addresses from DNS answers and fails with
 * `EHOSTUNREACH`-like `ENOTALLOWED` when none is left.
 */
export function guardedLookup(hostname: string, options: LookupAllOptions | { all?: boolean; family?: number }, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const ok = addresses.filter((a) => !isInternalAddress(a.address));
    if (ok.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`push endpoint ${hostname} resolves only to internal addresses`);
      e.code = 'ENOTALLOWED';
      return callback(e, []);
    }
    if (options.all) return callback(null, ok);
    callback(null, ok[0].address, ok[0].family);
  });
}
