/**
 * The port space: the one definition of "this port is free". The allocator, `freePorts`
 * (the CLI's `suggest`) and every fix the checker proposes ask it, so they cannot disagree.
 *
 * Modelled on Kubernetes' service port allocator (pkg/registry/core/service/portallocator):
 * a small interface (`allocate`, `allocateNext`, `release`, `has`) over one table per scope
 * and protocol, with errors that name the port, the range and the holder.
 */
import { Range } from '../model/schema';
import type { RegistrySpec } from '../model/schema';
import { AvoidedRange, avoidedPortsOf, avoidedRangesOf, defactoPortsOf, formatRange } from '../model/normalize';
import type { DefactoPort } from '../model/well-known';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';

const MAX_PORT = 65535;

/** `allocate(port)` found the port taken. */
export class PortAllocatedError extends Error {
  constructor(public readonly port: number, public readonly holder: string) {
    super(`port ${port} is already allocated to ${holder}`);
    this.name = 'PortAllocatedError';
  }
}

/** A port outside 1-65535 (or outside the range asked for). */
export class PortNotInRangeError extends Error {
  constructor(public readonly port: number, public readonly range: Range) {
    super(`port ${port} is not in the range ${formatRange(range)}`);
    this.name = 'PortNotInRangeError';
  }
}

/** `allocateNext` found no free port left in the ranges it was given. */
export class PortSpaceFullError extends Error {
  constructor(public readonly ranges: readonly Range[]) {
    super(`no free port is left in ${ranges.map(formatRange).join(', ') || 'an empty range'}`);
    this.name = 'PortSpaceFullError';
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

  /** The avoided range or reserved category `port` lies in. */
  public avoidedRange(port: number): AvoidedRange | undefined {
    const ranges = this.avoidedRanges;
    for (let i = 0; i < ranges.length; i++) if (port >= ranges[i].range[0] && port <= ranges[i].range[1]) return ranges[i];
    return undefined;
  }

  /** The de-facto default `port` is, unless the port's own kind is that server. */
  public defactoConflict(port: number, kind?: string): DefactoPort | undefined {
    const d = this.defacto.get(port);
    return d && !(kind && d.kinds?.includes(kind)) ? d : undefined;
  }

  /**
   * `port` itself when the rules allow it for `use`, otherwise the lowest port above it that could
   * be allowed (a whole avoided range or the system ports are skipped at once).
   */
  public skip(port: number, use: PortUse = {}): number {
    if (port < SYSTEM_PORT_LIMIT && !use.privileged) return SYSTEM_PORT_LIMIT;
    const range = this.avoidedRanges.length ? this.avoidedRange(port) : undefined;
    if (range) return range.range[1] + 1;
    const kept = this.fallbackRanges.length ? this.fallbackRange(port) : undefined;
    if (kept) return kept.range[1] + 1;
    if (this.avoidedPorts.has(port) || this.defactoConflict(port, use.kind)) return port + 1;
    return port;
  }
}

/**
 * One port space: a scope (a host) and a protocol. Ports are held by owners (numbers the caller
 * gives meaning to). Finding the next free port is amortised constant time: each held port points
 * past itself, and lookups shorten the chains they walk (a disjoint-set "next free" structure),
 * so placing n automatic ports costs O(n), not O(n²). Sparse: a space costs what it holds.
 */
export class PortSpace {
  private readonly owners = new Map<number, number>();
  /** For a held port, a port above it that is free or closer to the next free one. */
  private readonly next = new Map<number, number>();

  /** Takes `port` for `owner`; returns the previous owner when the port was already held, else -1 (nothing changes then). */
  public allocate(port: number, owner: number): number {
    const previous = this.owners.get(port);
    if (previous !== undefined) return previous;
    this.owners.set(port, owner);
    this.next.set(port, port + 1);
    return -1;
  }

  /** True when someone holds `port`. */
  public has(port: number): boolean {
    return this.owners.has(port);
  }

  /** The owner of `port`, or -1. */
  public ownerOf(port: number): number {
    return this.owners.get(port) ?? -1;
  }

  /** The highest held port inside `ranges`, or -1 (a scan of the held ports: for rare callers). */
  public highestIn(ranges: readonly Range[]): number {
    let highest = -1;
    for (const p of this.owners.keys()) {
      if (p > highest && ranges.some(r => p >= r[0] && p <= r[1])) highest = p;
    }
    return highest;
  }

  /** Frees `port`. */
  public release(port: number): void {
    if (!this.owners.delete(port)) return;
    // Chains may run through the freed port: rebuild them from the owners (rare: only tools release).
    this.next.clear();
    for (const p of this.owners.keys()) this.next.set(p, p + 1);
  }

  /** The lowest port at or above `from` that nobody holds (65536 when none is left). */
  public nextUnheld(from: number): number {
    let p = from;
    let q = this.next.get(p);
    while (q !== undefined) {
      // Path halving: point this port two steps ahead, so later walks are shorter.
      const r = this.next.get(q);
      if (r !== undefined) this.next.set(p, r);
      p = q;
      q = this.next.get(p);
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
        let p = Math.max(lo, start, 1);
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

  /** Takes the lowest free port of `ranges` for `owner`; throws {@link PortSpaceFullError} when none is left. */
  public allocateNext(ranges: readonly Range[], rules: PortRules, owner: number, use: PortUse = {}): number {
    const port = this.findNext(ranges, rules, use);
    if (port === undefined) throw new PortSpaceFullError(ranges);
    this.allocate(port, owner);
    return port;
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
    if (!space) this.spaces.set(key, space = new PortSpace());
    return space;
  }

  /** The lowest free port (see {@link PortSpace.findNext}) in the space of `scope` and `protocol`. */
  public findNext(scope: string, protocol: string, ranges: readonly Range[], use: PortUse = {}, from = 0, extra?: (port: number) => boolean): number | undefined {
    return this.of(scope, protocol).findNext(ranges, this.rules, use, from, extra);
  }
}
