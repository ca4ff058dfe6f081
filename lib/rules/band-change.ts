/**
 * What a fix that changes a band (shrinks it) does to the ports placed in it. A band's start is
 * what offsets count from: moving it moves every port given by an `offset` (or `offset: 'auto'`)
 * from that band, every category range counted by `offsets`, and every `slot` in such a category.
 * A fix may change a band only when no port of the band's environment is stranded by it: each one
 * stays inside the new band (and its category), on a port nobody else holds, and the fix says the
 * ports that move. A port given by an offset in that environment only, which would be stranded
 * where it moves, is kept where it is by a new offset, which the fix then sets.
 */
import { PortRules } from '../allocation/port-space';
import { Environment, rangeOrigin } from '../model/normalize';
import type { Allocation } from '../model/resolved';
import type { Range, RegistrySpec } from '../model/schema';
import { slotOf } from '../model/slots';

/** The key paths (with their values) a band change must set too, and the ports it moves. */
export interface BandChange {
  /** `services.b.ports.http.offset: 10`: new offsets that keep ports where they are. */
  readonly sets: readonly string[];
  /** `b.http (dev) to 8110`: ports given by an offset that move with the band's start. */
  readonly moves: readonly string[];
}

/**
 * Whether environment `envName`'s band can become `next` without stranding a port; undefined when
 * it cannot. `allocations` are the registry's (every environment: moved ports must not land on
 * another's port in the same scope); `others` are ports other registries hold on the same hosts.
 */
export function bandChange(spec: RegistrySpec, envs: readonly Environment[], allocations: readonly Allocation[], envName: string, next: Range,
  others: readonly Allocation[] = []): BandChange | undefined {
  const env = envs.find(e => e.name === envName);
  const band = env?.band;
  if (!env || !band) return undefined;
  const delta = next[0] - band[0];
  const categories = spec.categories ?? {};
  // Offsets that no longer fit in the band are an invalid-range of their own.
  for (const c of Object.values(categories)) {
    if ((c.offsets ?? []).some(([, b]) => b > next[1] - next[0])) return undefined;
  }
  /** A category's ranges once the band has changed: those counted from this band move with its start. */
  const rangesOf = (name: string): Range[] | undefined => {
    const c = categories[name];
    if (!c?.ranges?.length) return undefined;
    return c.ranges.map((r, i) => (rangeOrigin(c, i)?.environment === envName ? [r[0] + delta, Math.min(r[1] + delta, next[1])] as Range : r));
  };
  const countedFromBand = (name: string | undefined) => name !== undefined && !!categories[name]?.offsets?.length;
  const portSpec = (a: Allocation) => spec.services?.[a.service]?.ports?.[a.portName];
  const mine = allocations.filter(a => a.of === 'service' && a.environment === envName);
  const sets: string[] = [];
  const moved = new Map<Allocation, number>();
  /** Ports given by a numeric offset in this environment only: a new offset can keep them where they are. */
  const keepable = new Set<Allocation>();
  const keep = (a: Allocation) => sets.push(`services.${a.service}.ports.${a.portName}.offset: ${a.port - next[0]}`);
  for (const a of mine) {
    const p = portSpec(a);
    const byOffset = a.source === 'offset';
    const bySlot = p !== undefined && slotOf(p) !== undefined && countedFromBand(a.category);
    const inCategory = (n: number) => {
      const ranges = a.category !== undefined ? rangesOf(a.category) : undefined;
      return !ranges || ranges.some(r => n >= r[0] && n <= r[1]);
    };
    const fits = (n: number) => n >= next[0] && n <= next[1] && inCategory(n);
    const port = byOffset || bySlot ? a.port + delta : a.port;
    const alone = byOffset && typeof p?.offset === 'number' && fits(a.port) &&
      !allocations.some(o => o !== a && o.of === 'service' && o.service === a.service && o.portName === a.portName);
    if (port !== a.port && fits(port)) {
      moved.set(a, port);
      if (alone) keepable.add(a);
    } else if (port !== a.port && alone) {
      keep(a);
    } else if (!fits(port)) {
      return undefined;
    }
  }
  const moves: string[] = [];
  if (moved.size) {
    // A moved port must land where the allocator could put it: free in its scope, not avoided or reserved.
    const rules = new PortRules(spec);
    const key = (scope: string, protocol: string, port: number) => `${scope}\u0000${protocol}\u0000${port}`;
    const held = new Set([...allocations.filter(a => !moved.has(a)), ...others].map(a => key(a.scope, a.protocol, a.port)));
    for (const [a, port] of moved) {
      const k = key(a.scope, a.protocol, port);
      if (!held.has(k) && rules.skip(port, { kind: a.kind, privileged: port < 1024 }) === port) {
        held.add(k);
        moves.push(`${a.service}.${a.portName} (${envName}) to ${port}`);
      } else if (keepable.has(a) && !held.has(key(a.scope, a.protocol, a.port))) {
        held.add(key(a.scope, a.protocol, a.port));
        keep(a);
      } else {
        return undefined;
      }
    }
  }
  return { sets, moves };
}

/** ` and <sets>` and `, which moves …` for a fix's text. */
export function bandChangeText(change: BandChange): { readonly sets: string; readonly moves: string } {
  return {
    sets: change.sets.map(s => ` and set ${s}`).join(''),
    moves: change.moves.length ? `; it moves ${change.moves.join(', ')}` : '',
  };
}
