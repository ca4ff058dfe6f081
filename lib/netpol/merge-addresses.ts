/**
 * connlist's rows from or to addresses, merged: the address stand-ins are intervals in address
 * order, and two of one family that touch (one's last address plus one is the other's first),
 * with the same peer and the same connection, are one interval, as netpol-analyzer prints them.
 */
import * as ipaddr from 'ipaddr.js';
import type { Address } from './model';

interface Row { readonly src: string; readonly dst: string; readonly conn: string }

const toBig = (ip: string): { family: string; n: bigint } => {
  const a = ipaddr.parse(ip);
  return { family: a.kind(), n: a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n) };
};

const intervalName = (first: string, last: string) => (first === last ? `${first}[External]` : `${first}-${last}[External]`);

/** `rows` with the adjacent address intervals of each peer and connection merged (other rows as they are). */
export function mergeAddressRows<T extends Row>(rows: readonly T[], addressOf: (name: string) => Address | undefined,
  /** Where given, intervals are merged only across none of these first addresses (the cuts the peer's own policies make: netpol-analyzer's lines). */
  keepCuts?: (peer: string, side: 'src' | 'dst') => ReadonlySet<bigint>): T[] {
  const out: T[] = [];
  const groups = new Map<string, Array<{ row: T; side: 'src' | 'dst'; a: Address }>>();
  for (const row of rows) {
    // (Node stand-ins are no interval of addresses: left as they are.)
    const interval = (a: Address | undefined) => (a && !a.nodeLabels ? a : undefined);
    const src = interval(addressOf(row.src));
    const dst = interval(addressOf(row.dst));
    const side = src && !dst ? 'src' : dst && !src ? 'dst' : undefined;
    const a = side === 'src' ? src : dst;
    if (!side || !a) { out.push(row); continue; }
    const k = `${side}\u0000${side === 'src' ? row.dst : row.src}\u0000${row.conn}\u0000${a.ip.includes(':') ? 6 : 4}`;
    const list = groups.get(k);
    if (list) list.push({ row, side, a }); else groups.set(k, [{ row, side, a }]);
  }
  for (const list of groups.values()) {
    const first = list[0];
    const cuts = keepCuts?.(first.side === 'src' ? first.row.dst : first.row.src, first.side);
    const spans = list.map(x => ({ ...x, lo: toBig(x.a.span?.first ?? x.a.ip).n, hi: toBig(x.a.span?.last ?? x.a.ip).n, first: x.a.span?.first ?? x.a.ip, last: x.a.span?.last ?? x.a.ip }))
      .sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
    let run = spans[0];
    let last = run.last;
    let hi = run.hi;
    const flush = () => out.push({ ...run.row, [run.side]: intervalName(run.first, last) });
    for (const s of spans.slice(1)) {
      if (s.lo === hi + 1n && !cuts?.has(s.lo)) { last = s.last; hi = s.hi; continue; }
      flush();
      run = s; last = s.last; hi = s.hi;
    }
    flush();
  }
  return out;
}
