/**
 * The address space outside the cluster cut into intervals on which no CIDR named by a policy or
 * a registry changes: an address of one interval is in exactly the same blocks as any other, so
 * one address per interval (its representative) stands for all of them, exactly.
 */
import * as ipaddr from 'ipaddr.js';

/** An interval of addresses of one family, with the address that stands for it. */
export interface AddressSpan {
  readonly family: 'ipv4' | 'ipv6';
  /** First and last address, as text. */
  readonly first: string;
  readonly last: string;
  /** The representative: `prefer` when the interval holds it, else the first host (first + 1) of an interval of two or more. */
  readonly ip: string;
}

const WIDTH = { ipv4: 32, ipv6: 128 } as const;

const toBig = (a: ipaddr.IPv4 | ipaddr.IPv6): bigint => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);

function fromBig(n: bigint, family: 'ipv4' | 'ipv6'): string {
  const bytes: number[] = [];
  for (let i = 0; i < WIDTH[family] / 8; i++) { bytes.unshift(Number(n & 0xffn)); n >>= 8n; }
  return ipaddr.fromByteArray(bytes).toString();
}

/** A CIDR as its first and last address (undefined when it does not parse). */
export function cidrRange(cidr: string): { family: 'ipv4' | 'ipv6'; lo: bigint; hi: bigint } | undefined {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
  const family = parsed[0].kind() as 'ipv4' | 'ipv6';
  const host = BigInt(WIDTH[family] - parsed[1]);
  const lo = (toBig(parsed[0]) >> host) << host;
  return { family, lo, hi: lo + (1n << host) - 1n };
}

/**
 * The intervals the CIDRs cut both address families into (CIDRs that do not parse cut nothing),
 * in address order, IPv4 first. `prefer` are addresses to use as representatives where they fall.
 */
export function addressSpans(cidrs: Iterable<string>, prefer: readonly string[] = []): AddressSpan[] {
  const cuts = { ipv4: new Set<bigint>([0n]), ipv6: new Set<bigint>([0n]) };
  for (const cidr of new Set(cidrs)) {
    const r = cidrRange(cidr);
    if (!r) continue;
    cuts[r.family].add(r.lo);
    if (r.hi + 1n < 1n << BigInt(WIDTH[r.family])) cuts[r.family].add(r.hi + 1n);
  }
  const preferred = prefer.map(ip => ipaddr.parse(ip)).map(a => ({ family: a.kind() as 'ipv4' | 'ipv6', n: toBig(a), ip: a.toString() }));
  const out: AddressSpan[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const points = [...cuts[family]].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const end = 1n << BigInt(WIDTH[family]);
    points.forEach((lo, i) => {
      const hi = (i + 1 < points.length ? points[i + 1] : end) - 1n;
      const p = preferred.find(x => x.family === family && x.n >= lo && x.n <= hi);
      const ip = p ? p.ip : fromBig(hi > lo ? lo + 1n : lo, family);
      out.push({ family, first: fromBig(lo, family), last: fromBig(hi, family), ip });
    });
  }
  return out;
}
