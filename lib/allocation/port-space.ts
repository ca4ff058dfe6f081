/**
 * The port space: the one definition of "this port is free". The allocator, `freePorts`
 * (the CLI's `suggest`) and every fix the checker proposes ask it, so they cannot disagree.
 *
 * Modelled on Kubernetes' service port allocator (pkg/registry/core/service/portallocator):
 * a small interface (`allocate`, `findNext`, `has`) over one table per scope
 * and protocol; `allocate` returns the holder of a taken port instead of throwing.
 */
import { Range } from '../model/schema';
import type { RegistrySpec } from '../model/schema';
import { AvoidedRange, avoidedPortsOf, avoidedRangesOf, defactoPortsOf, formatRange } from '../model/normalize';
import type { DefactoPort } from '../model/well-known';
import { FIX_KEEPS_CLEAR, SYSTEM_PORT_LIMIT } from '../model/well-known';
import { isVendorDefault, kindKey } from '../model/vendor-defaults';

const MAX_PORT = 65535;

/** A port outside 1-65535 (or outside the range asked for). */
export class PortNotInRangeError extends Error {
  constructor(public readonly port: number, public readonly range: Range) {
    super(`port ${port} is not in the range ${formatRange(range)}`);
    this.name = 'PortNotInRangeError';
  }
}

/** What a port is for: the de-facto rule depends on the kind, the system-port rule on `privileged`. */
export interface PortUse {
  /** The kind of server (postgres, redis …): its own de-facto port is fine for it. @default none */
  readonly kind?: string;
  /** May take a system port (< 1024). @default false */
  readonly privileged?: boolean;
}

/**
 * The registry-wide rules of which numbers may be handed out at all, whoever holds them:
 * avoided ports and ranges, reserved categories, de-facto defaults and system ports.
 */
export class PortRules {
  public readonly avoidedPorts: ReadonlyMap<number, string>;
  public readonly avoidedRanges: readonly AvoidedRange[];
  public readonly defacto: ReadonlyMap<number, DefactoPort>;
  /** Ranges categories keep for fallbacks: no primary port is handed out there. */
  public readonly fallbackRanges: ReadonlyArray<{ readonly range: Range; readonly category: string }>;

  constructor(spec: RegistrySpec) {
    this.avoidedPorts = avoidedPortsOf(spec);
    this.avoidedRanges = avoidedRangesOf(spec);
    this.defacto = defactoPortsOf(spec);
    this.fallbackRanges = Object.entries(spec.categories ?? {}).flatMap(([category, c]) => (c.fallbackRanges ?? []).map(range => ({ range, category })));
  }

  /** The fallback range (and its category) `port` lies in. */
  public fallbackRange(port: number): { readonly range: Range; readonly category: string } | undefined {
    return this.fallbackRanges.find(f => port >= f.range[0] && port <= f.range[1]);
  }

  /** The avoided ranges sorted by start, with the furthest end among each one and those before it. */
  private sortedAvoided?: { readonly ranges: ReadonlyArray<{ readonly r: AvoidedRange; readonly order: number }>; readonly reach: Int32Array };

  /**
   * The avoided range or reserved category `port` lies in (the first declared, when several do).
   * A binary search over the ranges sorted by start: registries may avoid thousands of ranges.
   */
  public avoidedRange(port: number): AvoidedRange | undefined {
    const all = this.avoidedRanges;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the scan and the search below find the same range (test/allocation.test.ts compares them)
    if (all.length < 8) {
      for (let i = 0; i < all.length; i++) if (port >= all[i].range[0] && port <= all[i].range[1]) return all[i];
      return undefined;
    }
    // Stryker disable next-line ConditionalExpression: equivalent, a memo (sorted again, the same)
    if (!this.sortedAvoided) {
      const ranges = all.map((r, order) => ({ r, order })).sort((a, b) => a.r.range[0] - b.r.range[0]);
      const reach = new Int32Array(ranges.length);
      // Stryker disable next-line UnaryOperator: equivalent, every range ends at port 1 or above, so the first reach is its end either way
      ranges.forEach((x, i) => { reach[i] = Math.max(i ? reach[i - 1] : -1, x.r.range[1]); });
      this.sortedAvoided = { ranges, reach };
    }
    const { ranges, reach } = this.sortedAvoided;
    let lo = 0;
    let hi = ranges.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid].r.range[0] <= port) { last = mid; lo = mid + 1; } else hi = mid - 1;
    }
    let best: { readonly r: AvoidedRange; readonly order: number } | undefined;
    for (let i = last; i >= 0 && reach[i] >= port; i--) {
      if (ranges[i].r.range[1] >= port && (!best || ranges[i].order < best.order)) best = ranges[i];
    }
    return best?.r;
  }

  /**
   * The de-facto default `port` is, unless the port's own kind is that server: one the entry
   * names, or a server whose vendor default `port` is (Gitea on 3000, the Docker registry on 5000).
   */
  public defactoConflict(port: number, kind?: string): DefactoPort | undefined {
    const d = this.defacto.get(port);
    if (!d || !kind) return d;
    const key = kindKey(kind);
    return d.kinds?.some(k => kindKey(k) === key) || isVendorDefault(kind, port) ? undefined : d;
  }

  /**
   * What `port` is kept clear for (X11's 6000), unless the port's own kind is that server: no new
   * port is handed out there (automatic ports, `suggest`, fixes), although no rule warns on a port
   * placed there (an explicit or lock-pinned 6000 stays).
   */
  public keptClear(port: number, kind?: string): string | undefined {
    const what = FIX_KEEPS_CLEAR[port];
    return what !== undefined && !isVendorDefault(kind, port) ? what : undefined;
  }

  /**
   * `port` itself when the rules allow it for `use`, otherwise the lowest port above it that could
   * be allowed (a whole avoided range or the system ports are skipped at once).
   */
  public skip(port: number, use: PortUse = {}): number {
    if (port < SYSTEM_PORT_LIMIT && !use.privileged) return SYSTEM_PORT_LIMIT;
    const range = this.avoidedRanges.length ? this.avoidedRange(port) : undefined;
    // (Floored: a range written with a fraction, an invalid-range error, must not make the search leave the integers.)
    if (range) return Math.floor(range.range[1]) + 1;
    const kept = this.fallbackRanges.length ? this.fallbackRange(port) : undefined;
    if (kept) return Math.floor(kept.range[1]) + 1;
    if (this.avoidedPorts.has(port) || this.defactoConflict(port, use.kind) || this.keptClear(port, use.kind) !== undefined) return port + 1;
    return port;
  }

  /** The de-facto and kept-clear ports, sorted (for {@link skippedBelow}). */
  private notable?: readonly number[];

  /**
   * What a new port found at `port` in `ranges` stepped over: the de-facto defaults and kept-clear
   * ports below it in its range that `use` may not take, lowest first, e.g. `[[3000, 'Node.js/Rails/Grafana
   * dev servers'], [6000, 'X11, display :0']]`. Said beside the port, not silently.
   */
  public skippedBelow(ranges: readonly Range[], port: number, use: PortUse = {}): Array<[number, string]> {
    const range = ranges.find(x => x[0] <= port && port <= x[1]);
    if (!range) return [];
    const passed: Array<[number, string]> = [];
    this.notable ??= [...new Set([...this.defacto.keys(), ...Object.keys(FIX_KEEPS_CLEAR).map(Number)])].sort((x, y) => x - y);
    for (const p of this.notable) {
      if (p < range[0] || p >= port) continue;
      const why = this.defactoConflict(p, use.kind)?.what ?? this.keptClear(p, use.kind);
      if (why !== undefined) passed.push([p, why]);
    }
    return passed;
  }
}

/** `3000 (Node.js/Rails/Grafana dev servers), 6000 (X11, display :0)`: the ports a search stepped over. */
export function describeSkipped(passed: ReadonlyArray<readonly [number, string]>): string {
  return passed.map(([p, why]) => `${p} (${why})`).join(', ');
}

/** Held ports from which a space switches from maps to two flat tables (2 × 256 KiB). */
const DENSE_AT = 2048;

/**
 * One port space: a scope (a host) and a protocol. Ports are held by owners (numbers the caller
 * gives meaning to). Finding the next free port is amortised constant time: each held port points
 * past itself, and lookups shorten the chains they walk (a disjoint-set "next free" structure),
 * so placing n automatic ports costs O(n), not O(n²). A space costs what it holds: maps while it
 * holds few ports (a registry may have thousands of scopes), flat tables once it holds many.
 */
export class PortSpace {
  private owners: Map<number, number> | undefined = new Map();
  /** For a held port, a port above it that is free or closer to the next free one. */
  private next: Map<number, number> | undefined = new Map();
  /** Dense form: owner + 1 per port (0: free). */
  private ownerTable: Int32Array | undefined;
  /** Dense form: the `next` pointer per held port (0: not held). */
  private nextTable: Int32Array | undefined;
  private held = 0;

  /** Takes `port` for `owner`; returns the previous owner when the port was already held, else -1 (nothing changes then). */
  public allocate(port: number, owner: number): number {
    if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) throw new PortNotInRangeError(port, [1, MAX_PORT]);
    const table = this.ownerTable;
    if (table) {
      const previous = table[port];
      if (previous !== 0) return previous - 1;
      table[port] = owner + 1;
      // A blocked stretch starting here keeps its longer jump.
      // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, a pointer is 0 or ahead of its port, and a shorter jump only costs steps
      if (this.nextTable![port] < port + 1) this.nextTable![port] = port + 1;
      // Stryker disable next-line UpdateOperator: equivalent, the count is read only before the tables exist
      this.held++;
      return -1;
    }
    const previous = this.owners!.get(port);
    if (previous !== undefined) return previous;
    this.owners!.set(port, owner);
    if ((this.next!.get(port) ?? 0) < port + 1) this.next!.set(port, port + 1);
    if (++this.held >= DENSE_AT) this.densify();
    return -1;
  }

  private densify(): void {
    const owners = new Int32Array(MAX_PORT + 2);
    const next = new Int32Array(MAX_PORT + 2);
    for (const [port, owner] of this.owners!) owners[port] = owner + 1;
    for (const [port, to] of this.next!) next[port] = to;
    this.ownerTable = owners;
    this.nextTable = next;
    this.owners = undefined;
    this.next = undefined;
  }

  /** True when someone holds `port`. */
  public has(port: number): boolean {
    return this.ownerOf(port) !== -1;
  }

  /** The owner of `port`, or -1. */
  public ownerOf(port: number): number {
    if (this.ownerTable) return port >= 0 && port <= MAX_PORT ? this.ownerTable[port] - 1 : -1;
    return this.owners!.get(port) ?? -1;
  }

  /** The highest held port inside `ranges`, or -1. */
  public highestIn(ranges: readonly Range[]): number {
    let highest = -1;
    const table = this.ownerTable;
    if (table) {
      for (const [lo, hi] of ranges) {
        for (let p = Math.min(hi, MAX_PORT); p >= Math.max(lo, highest + 1, 0); p--) {
          if (table[p] !== 0) {
            highest = p;
            break;
          }
        }
      }
      return highest;
    }
    for (const p of this.owners!.keys()) {
      if (p > highest && ranges.some(r => p >= r[0] && p <= r[1])) highest = p;
    }
    return highest;
  }

  /**
   * Makes the next-free search jump over `from`-`to` in one step. The ports stay free (`has` is
   * false; `allocate` may still take one); the rules would refuse them to every request anyway,
   * and without the jump every request would step over each such stretch again.
   */
  // Stryker disable next-line BlockStatement: equivalent, without the jump every search steps over the stretch (the rules refuse it)
  public block(from: number, to: number): void {
    // A reversed range would send searches back; a fraction would lead them off the integers.
    if (from > to || !Number.isInteger(to)) return;
    // Stryker disable next-line all: equivalent, a pointer at a fraction, below 0 or above 65535 is never walked (searches start at integers in 1-65535)
    if (!Number.isInteger(from) || from < 0 || from > MAX_PORT) return;
    const end = Math.min(to, MAX_PORT) + 1;
    // A pointer only moves forward: a shorter jump (or none) costs steps, not answers.
    if (this.nextTable) {
      // Stryker disable next-line all: equivalent, the jump kept, shortened or skipped only costs steps
      if (this.nextTable[from] < end) this.nextTable[from] = end;
      return;
    }
    // Stryker disable next-line all: equivalent, the jump kept, shortened or skipped only costs steps
    if ((this.next!.get(from) ?? 0) < end) this.next!.set(from, end);
  }

  /** The lowest port at or above `from` (a port, 1-65535: findNext's search) that nobody holds (65536 when none is left). */
  private nextUnheld(from: number): number {
    const table = this.nextTable;
    if (table) {
      let p = from;
      let q = table[p];
      while (q !== 0) {
        // Path halving: point this port two steps ahead, so later walks are shorter.
        const r = table[q];
        if (r !== 0) table[p] = r;
        p = q;
        q = table[p];
      }
      return p;
    }
    const next = this.next!;
    let p = from;
    let q = next.get(p);
    while (q !== undefined) {
      const r = next.get(q);
      if (r !== undefined) next.set(p, r);
      p = q;
      q = next.get(p);
    }
    return p;
  }

  /**
   * The lowest free port in `ranges` at or after `from` (wrapping to the ranges' start), allowed by
   * `rules` for `use` and by `extra` (e.g. "not listening here"); undefined when there is none.
   */
  public findNext(ranges: readonly Range[], rules: PortRules, use: PortUse = {}, from = 0, extra?: (port: number) => boolean): number | undefined {
    const sorted = ranges.length > 1 ? [...ranges].sort((a, b) => a[0] - b[0]) : ranges;
    for (const start of from > 0 ? [from, 0] : [0]) {
      for (const [lo, hi] of sorted) {
        let p = Math.ceil(Math.max(lo, start, 1));
        while (p <= Math.min(hi, MAX_PORT)) {
          p = this.nextUnheld(p);
          if (p > hi) break;
          const allowed = rules.skip(p, use);
          if (allowed !== p) {
            p = allowed;
            continue;
          }
          if (extra && !extra(p)) {
            p++;
            continue;
          }
          return p;
        }
      }
    }
    return undefined;
  }
}

/** Every port space of a registry (one per scope and protocol) and the rules they share. */
export class PortSpaces {
  private readonly spaces = new Map<string, PortSpace>();

  constructor(public readonly rules: PortRules) {}

  /** The space of `scope` and `protocol`, created empty on first use. */
  public of(scope: string, protocol: string): PortSpace {
    const key = `${scope}\u0000${protocol}`;
    let space = this.spaces.get(key);
    if (!space) {
      this.spaces.set(key, space = new PortSpace());
      // What no request may get, whatever it is for: jumped over in one step by every search.
      for (const a of this.rules.avoidedRanges) space.block(a.range[0], a.range[1]);
      for (const f of this.rules.fallbackRanges) space.block(f.range[0], f.range[1]);
      for (const port of this.rules.avoidedPorts.keys()) space.block(port, port);
    }
    return space;
  }

  /** The lowest free port (see {@link PortSpace.findNext}) in the space of `scope` and `protocol`. */
  public findNext(scope: string, protocol: string, ranges: readonly Range[], use: PortUse = {}, from = 0, extra?: (port: number) => boolean): number | undefined {
    return this.of(scope, protocol).findNext(ranges, this.rules, use, from, extra);
  }
}
