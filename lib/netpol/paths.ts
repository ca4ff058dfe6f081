/** Paths (from, to, port or port range, protocol) as sets: a key, a difference, an order. */

/** An allowed path. */
export interface Path {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  /** The last port of the interval the path stands for ({@link Cluster.exactPaths}); absent for one port. */
  readonly endPort?: number;
}

export const pathKey = (p: Path): string => `${p.from} -> ${p.to} ${p.port}/${p.protocol}`;

/**
 * The connections of `a` that `b` does not have, as paths of port intervals: the ports of each
 * pair and protocol are merged into intervals on both sides first, so that the same connections
 * cut at other ports (two sides of a diff are cut by their own rules) compare equal.
 */
export function subtractPaths(a: readonly Path[], b: readonly Path[]): Path[] {
  const group = (paths: readonly Path[]) => {
    const m = new Map<string, Array<[number, number]>>();
    for (const p of paths) {
      const k = `${p.from}\u0000${p.to}\u0000${p.protocol}`;
      const list = m.get(k);
      const span: [number, number] = [p.port, p.endPort ?? p.port];
      if (list) list.push(span); else m.set(k, [span]);
    }
    return m;
  };
  const left = group(a);
  const right = group(b);
  const out: Path[] = [];
  const firstOf = new Map<string, Path>();
  for (const p of a) if (!firstOf.has(`${p.from}\u0000${p.to}\u0000${p.protocol}`)) firstOf.set(`${p.from}\u0000${p.to}\u0000${p.protocol}`, p);
  for (const [k, spans] of left) {
    const minus = mergeSpans(right.get(k) ?? []);
    const p = firstOf.get(k)!;
    for (const [lo, hi] of mergeSpans(spans)) {
      let from = lo;
      for (const [mlo, mhi] of minus) {
        if (mhi < from || mlo > hi) continue;
        if (mlo > from) out.push(spanPath(p, from, mlo - 1));
        from = Math.max(from, mhi + 1);
      }
      if (from <= hi) out.push(spanPath(p, from, hi));
    }
  }
  return sortPaths(out);
}

export const spanPath = (p: Path, lo: number, hi: number): Path =>
  (hi > lo ? { from: p.from, to: p.to, port: lo, protocol: p.protocol, endPort: hi } : { from: p.from, to: p.to, port: lo, protocol: p.protocol });

/** Intervals sorted and merged where they overlap or touch. */
export function mergeSpans(spans: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const sorted = [...spans].sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/**
 * Paths sorted by from, to, port and protocol. The ends are ranked once (their ids sorted), so
 * that the sort compares numbers, not strings: the same order, at a fraction of the cost.
 */
export function sortPaths(paths: Path[]): Path[] {
  const ids = new Set<string>();
  const protocols = new Set<string>();
  for (const p of paths) { ids.add(p.from); ids.add(p.to); protocols.add(p.protocol); }
  const rank = new Map<string, number>();
  [...ids].sort().forEach((id, i) => rank.set(id, i));
  const protocolRank = new Map<string, number>();
  [...protocols].sort().forEach((protocol, i) => protocolRank.set(protocol, i));
  // One number per path orders it: ends, port (any number, not only 0-65535) and protocol ranked
  // in that order, exact while it stays below 2^53; otherwise the fields are compared one by one.
  const n = Math.max(ids.size, 1);
  const ports = paths.reduce((max, p) => Math.max(max, Math.abs(p.port)), 0) * 2 + 1;
  const exact = n * n * ports * Math.max(protocols.size, 1) < Number.MAX_SAFE_INTEGER && paths.every(p => Number.isInteger(p.port));
  const order = paths.map((_, i) => i);
  if (exact) {
    const keys = new Float64Array(paths.length);
    paths.forEach((p, i) => {
      keys[i] = ((rank.get(p.from)! * n + rank.get(p.to)!) * ports + p.port + (ports - 1) / 2) * protocols.size + protocolRank.get(p.protocol)!;
    });
    order.sort((a, b) => keys[a] - keys[b]);
  } else {
    order.sort((a, b) => {
      const x = paths[a];
      const y = paths[b];
      return rank.get(x.from)! - rank.get(y.from)! || rank.get(x.to)! - rank.get(y.to)! || x.port - y.port || protocolRank.get(x.protocol)! - protocolRank.get(y.protocol)!;
    });
  }
  const sorted = order.map(i => paths[i]);
  for (let i = 0; i < sorted.length; i++) paths[i] = sorted[i];
  return paths;
}
