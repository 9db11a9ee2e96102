import net from 'node:net';

/**
 * Never load-test what you do not own: only loopback targets are allowed unless the
 * operator says otherwise (--allow-remote). Decided from the URL alone, before any
 * request (even a DNS lookup) is made.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.split('.')[0] === '127';
  if (net.isIPv6(host)) {
    if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
    // An IPv4-mapped IPv6 address is loopback when its IPv4 part is; URL() writes
    // it in hex (::ffff:7f00:1), people write it dotted (::ffff:127.0.0.1).
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (dotted?.[1]) return isLoopbackHost(dotted[1]);
    const hex = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(host);
    return hex?.[1] !== undefined && parseInt(hex[1], 16) >> 8 === 127;
  }
  return false;
}

export class TargetRefused extends Error {
  override name = 'TargetRefused';
}

/** The validated target as an origin (http://127.0.0.1:3000), or TargetRefused. */
export function checkTarget(raw: string, allowRemote: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetRefused(`only http(s) targets: ${raw}`);
  if (url.username || url.password) throw new TargetRefused('credentials in the URL are not supported');
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new TargetRefused(
      `refusing to load-test ${url.host}: only loopback targets (localhost, 127.0.0.0/8, ::1) are allowed. ` +
        'Load-test only what you own; pass --allow-remote if you own this one.',
    );
  }
  // The scenarios' paths are absolute (/api/...): a base path would be silently dropped.
  if (url.pathname !== '/' || url.search) throw new TargetRefused(`give the service's origin without a path, e.g. ${url.origin}`);
  return url.origin;
}
