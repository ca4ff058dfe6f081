/**
 * The address space outside the cluster cut into intervals on which no CIDR named by a policy or
 * a registry changes: an address of one interval is in exactly the same blocks as any other, so
 * one address per interval (its representative) stands for all of them, exactly.
 */
import * as ipaddr from 'ipaddr.js';
import { ipBlockAdmits } from './model';

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


/** An address an ipBlock admits: in its CIDR and in none of its `except` blocks (undefined when none is found). */
export function addressAdmittedBy(block: { readonly cidr: string; readonly except?: readonly string[] }): string | undefined {
  // Stryker disable next-line ArrayDeclaration: equivalent, a candidate that is no address is never admitted
  const candidates: string[] = [];
  const first = addressIn(block.cidr);
  // The whole space with nothing excepted: the internet stand-ins are in it already.
  if (!first && (block.except ?? []).length === 0) return undefined;
  if (first) candidates.push(first);
  // Just past and just before each except block, then the block's last address.
  // Stryker disable next-line ArrayDeclaration: equivalent, an except block that does not parse adds no candidate
  for (const cidr of block.except ?? []) {
    try {
      const [base, bits] = ipaddr.parseCIDR(cidr);
      const bytes = base.toByteArray();
      const width = bytes.length * 8;
      const low = [...bytes];
      for (let bit = bits; bit < width; bit++) low[bit >> 3] &= ~(0x80 >> (bit & 7));
      const high = [...low];
      for (let bit = bits; bit < width; bit++) high[bit >> 3] |= 0x80 >> (bit & 7);
      candidates.push(step(high, 1), step(low, -1));
    } catch {
      // an invalid except block admits nothing of its own
    }
  }
  try {
    const [base, bits] = ipaddr.parseCIDR(block.cidr);
    const bytes = base.toByteArray();
    for (let bit = bits; bit < bytes.length * 8; bit++) bytes[bit >> 3] |= 0x80 >> (bit & 7);
    candidates.push(step(bytes, -1));
  // Stryker disable next-line BlockStatement: equivalent, a block whose cidr does not parse admits no address, so the find below gives undefined too
  } catch {
    return undefined;
  }
  return candidates.find(ip => ip && ipBlockAdmits(block, ip));
}

/** The address `delta` (1 or -1) away, wrapping never (empty string at the ends of the space). */
function step(bytes: number[], delta: 1 | -1): string {
  const out = [...bytes];
  for (let i = out.length - 1; i >= 0; i--) {
    const v = out[i] + delta;
    if (v >= 0 && v <= 255) { out[i] = v; return ipaddr.fromByteArray(out).toString(); }
    out[i] = delta > 0 ? 0 : 255;
  }
  return '';
}

const addressInMemo = new Map<string, string | undefined>();

/** An address inside a CIDR (its first host where there is one). */
export function addressIn(cidr: string): string | undefined {
  if (addressInMemo.has(cidr)) return addressInMemo.get(cidr);
  const ip = firstAddress(cidr);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a memo cleared or kept answers the same
  if (addressInMemo.size >= 10_000) addressInMemo.clear();
  addressInMemo.set(cidr, ip);
  return ip;
}

function firstAddress(cidr: string): string | undefined {
  try {
    const [base, bits] = ipaddr.parseCIDR(cidr);
    // The whole address space: the internet stand-ins are in it already.
    if (bits === 0) return undefined;
    const bytes = base.toByteArray();
    const width = bytes.length * 8;
    // The network address with the host part cleared, plus one when there is a host part.
    for (let bit = bits; bit < width; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
    if (bits < width) bytes[bytes.length - 1] |= 1;
    return ipaddr.fromByteArray(bytes).toString();
  } catch {
    return undefined;
  }
}
