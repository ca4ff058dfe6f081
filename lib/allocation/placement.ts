/**
 * Placement: taking a request's port (and its fallback, and its NodePort) in the port space of
 * its scope and protocol, and noting who held it before when someone did. Nothing here decides
 * where a port should go (lib/allocation/allocate.ts) or whether it sits well (the placement rules).
 */
import type { Environment } from '../model/normalize';
import type { Allocation } from '../model/resolved';
import type { Range, RegistrySpec } from '../model/schema';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import type { Allocated, Holder, Outcome, PortField } from './outcomes';
import type { PortSpace, PortSpaces } from './port-space';
import { describeSkipped } from './port-space';
import { PortDecl, Request, buildAllocation, validPort } from './request';

/**
 * A placed port whose placement the rules check (an external shared by environments of a scope
 * once). The placer hands out the placed {@link Request} itself, its `allocation` set.
 */
export interface Placement {
  readonly allocation: Allocation;
  readonly decl: PortDecl;
  readonly env: Environment;
  /** Band ∩ category ranges: where the port belongs. */
  readonly ranges: readonly Range[];
}

/** The fallback a request declares for its primary `port`: a port, or the primary shifted. */
export function declaredFallback(r: Request, port: number): number | undefined {
  const f = r.decl.fallback;
  return f === undefined ? undefined : typeof f === 'number' ? f : port + f.shift;
}

/**
 * Places ports one by one. Owners of ports are numbers: the index of their {@link Holder}. Taking a
 * port someone else holds leaves it to them and records an {@link Allocated} outcome (in
 * `collisions`, reported after every port is placed); values that are no port, and fallbacks the
 * rules refuse, are added to `outcomes` as they are met.
 */
export class Placer {
  public readonly allocations: Allocation[] = [];
  /** Each allocation's rank in declaration order (parallel to `allocations`). */
  public readonly ranks: number[] = [];
  public readonly placements: Placement[] = [];
  public readonly collisions: Allocated[] = [];
  /**
   * The owners of ports, by number: a port's owner is its allocation (in `holderAllocations`, no
   * object of its own: there is one per placed port), any other owner a {@link Holder} here.
   */
  private readonly holders: Array<Holder | undefined> = [];
  private readonly holderAllocations: Array<Allocation | undefined> = [];
  /** The owner of an external shared by the environments of a scope (`…@scope`, and `…#fallback`). */
  private readonly shared = new Map<string, number>();
  /** An external shared by environments of one scope meets another owner once, not once per environment. */
  private readonly sharedClashes = new Set<string>();
  /** The first owner of a NodePort number per scope, whatever its protocol. */
  private readonly firstNodePort = new Map<string, number>();
  constructor(private readonly spec: RegistrySpec, private readonly spaces: PortSpaces, private readonly outcomes: Outcome[],
    private readonly rankOf: (r: Request) => number, private readonly details = true) {}

  /** Whether `value` (a port or fallback of `r`) is a port at all; an outcome when it is not. */
  public isPort(r: Request, value: number, field: 'port' | 'fallback'): boolean {
    if (validPort(value)) return true;
    this.outcomes.push({ kind: 'not-in-range', request: r, field, value });
    return false;
  }

  /** Places a request's port; returns the allocation's index. */
  public place(r: Request, port: number, source: Allocation['source']): number {
    const fb = declaredFallback(r, port);
    const skipped = source === 'auto' && this.details ? this.skippedDefaults(r, port) : '';
    const a = buildAllocation(r, port, source, fb !== undefined && validPort(fb) ? fb : undefined, skipped || undefined, this.details);
    this.allocations.push(a);
    this.ranks.push(this.rankOf(r));
    let owner: number;
    // An external shared by environments of one scope is one listener: one owner, checked once.
    const known = r.shared !== undefined ? this.shared.get(r.shared) : undefined;
    if (known !== undefined) {
      owner = known;
    } else {
      owner = this.holdBy(undefined, a);
      if (r.shared !== undefined) this.shared.set(r.shared, owner);
      // The request is its placement (a request placed twice, which the allocator never does, would get one of its own).
      if (r.allocation === undefined) {
        r.allocation = a;
        this.placements.push(r as Request & Placement);
      } else {
        this.placements.push({ allocation: a, decl: r.decl, env: r.env, ranges: r.ranges });
      }
      if (a.nodePort !== undefined && validPort(a.nodePort)) this.placeNodePort(r, a, owner);
    }
    this.take(r, r.space, port, owner, 'port');
    return this.allocations.length - 1;
  }

  /** Holds a placed request's fallback port (after every fixed port is placed). */
  public placeFallback(r: Request, index: number): void {
    const fb = declaredFallback(r, this.allocations[index].port);
    if (fb === undefined || !this.isPort(r, fb, 'fallback')) return;
    const rules = this.spaces.rules;
    if (rules.avoidedPorts.has(fb) || rules.avoidedRange(fb)) this.outcomes.push({ kind: 'fallback-refused', request: r, port: fb, why: 'avoided' });
    if (fb < SYSTEM_PORT_LIMIT && !r.decl.privileged) this.outcomes.push({ kind: 'fallback-refused', request: r, port: fb, why: 'system' });
    const key = r.shared !== undefined ? `${r.shared}#fallback` : undefined;
    let owner = key !== undefined ? this.shared.get(key) : undefined;
    if (owner === undefined) {
      owner = this.holdBy({ kind: 'fallback', request: r });
      if (key !== undefined) this.shared.set(key, owner);
    }
    this.take(r, r.space, fb, owner, 'fallback');
  }

  /**
   * A stale lock entry still holds its port for this run, so a service added in the same change
   * cannot silently take over a port that clients of the removed one may still call. It holds it
   * in the scope of its environment (every environment of that scope sees it).
   */
  public holdStale(scope: string, port: number, key: string): void {
    this.spaces.of(scope, 'TCP').allocate(port, this.holdBy({ kind: 'stale', key }));
  }

  /**
   * A port another registry of the same base holds on the same host (lib/check/pipeline.ts):
   * held after this registry's own fixed ports, so that new automatic ports keep clear of it.
   * Meeting it is the cross-registry collision rule's to report, not this registry's.
   */
  public holdForeign(scope: string, protocol: string, port: number): void {
    if (!validPort(port)) return;
    this.spaces.of(scope, protocol).allocate(port, this.foreignOwner ??= this.holdBy({ kind: 'foreign' }));
  }

  /** A new owner: a holder, or the allocation of a placed port; its number. */
  private holdBy(holder: Holder | undefined, allocation?: Allocation): number {
    this.holderAllocations.push(allocation);
    return this.holders.push(holder) - 1;
  }

  /** Owner `n` as a {@link Holder}. */
  private holder(n: number): Holder {
    return this.holders[n] ?? { kind: 'port', allocation: this.holderAllocations[n]! };
  }

  /** The one owner of every port other registries hold. */
  private foreignOwner?: number;

  /** Takes a port for an owner; true when another owner held it (a collision is recorded, or was already for a shared external). */
  private take(r: Request, space: PortSpace, port: number, owner: number, what: PortField): boolean {
    const previous = space.allocate(port, owner);
    if (previous === -1 || previous === owner) return false;
    const holder = this.holder(previous);
    // Another registry's port: the cross-registry collision rule reports it, naming both.
    if (holder.kind === 'foreign') return false;
    // Services that never run together (compose profiles of which one is up) may share a port.
    if (holder.kind === 'port' && holder.allocation.of === 'service' && r.decl.of === 'service' && this.exclusive(r.decl.service, holder.allocation.service)) {
      return false;
    }
    if (r.shared !== undefined) {
      const key = `${r.shared} ${what} ${port} ${previous}`;
      if (this.sharedClashes.has(key)) return true;
      this.sharedClashes.add(key);
    }
    this.collisions.push({ kind: 'allocated', request: r, port, what, holder });
    return true;
  }

  /**
   * A NodePort is one per number on the scope's nodes, whatever the protocol: two Services cannot
   * share it, but one Service may give it to a TCP and a UDP port of the same number
   * (Kubernetes' NodePort allocator is not protocol-aware; kubernetes/kubernetes#91404).
   */
  private placeNodePort(r: Request, a: Allocation, owner: number): void {
    const nodePort = a.nodePort!;
    if (this.take(r, this.spaces.of(r.env.scope, `nodePort/${r.decl.protocol}`), nodePort, owner, 'nodePort')) return;
    const key = `${r.env.scope}\u0000${nodePort}`;
    const first = this.firstNodePort.get(key);
    if (first === undefined) {
      this.firstNodePort.set(key, owner);
      return;
    }
    const holder = this.holder(first) as Holder & { kind: 'port' };
    // Only services have NodePorts; one service in two environments is two Services.
    const sameService = holder.allocation.service === a.service && holder.allocation.environment === a.environment;
    if (!sameService) this.collisions.push({ kind: 'allocated', request: r, port: nodePort, what: 'nodePort', holder });
  }

  /** Whether two services are declared mutually exclusive (either one's `exclusiveWith` names the other). */
  private exclusive(a: string, b: string): boolean {
    const services = this.spec.services;
    return a !== b && (!!services?.[a]?.exclusiveWith?.includes(b) || !!services?.[b]?.exclusiveWith?.includes(a));
  }

  /** The well-known and kept-clear ports an automatic port stepped over in its range (not its own kind's): said beside it, not silently. */
  private skippedDefaults(r: Request, port: number): string {
    const passed = this.spaces.rules.skippedBelow(r.ranges, port, { kind: r.decl.kind, privileged: r.decl.privileged });
    return passed.length ? `automatic allocation skipped ${describeSkipped(passed)}` : '';
  }
}
