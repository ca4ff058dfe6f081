/** Where a port may move when it is wrong: the plan a finding's fix is written from (lib/allocation/fixes.ts). */
import type { Relocation } from '../allocation/fixes';
import type { PortDecl } from '../allocation/request';
import { Environment, formatRange } from '../model/normalize';
import type { Range } from '../model/schema';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import { slotIndexOf, slotOf } from '../model/slots';

/**
 * Where a request's port may move when it is wrong (see lib/allocation/fixes.ts). `movesPort`
 * false: what moves is another number of the port (its fallback, target port, NodePort), so a port
 * given by a slot or an offset keeps them.
 */
export function relocationOf(decl: PortDecl, env: Environment, ranges: readonly Range[], verb: string, from?: number,
  wrap?: Relocation['wrap'], movesPort = true): Relocation {
  // An external another team owns: its port is not ours to pick; they decide, or the exception is recorded.
  if (decl.of === 'external' && decl.entry.owner) {
    const owner = decl.entry.owner;
    const inner = wrap;
    wrap = (sentence, rule, syntax) => `${decl.service} is an external endpoint: its port is ${owner}'s to choose. Agree with them and record a waiver (` +
      (syntax === 'code' ? `registry.waive({ rule: '${rule}', service: '${decl.service}', reason: 'agreed with ${owner}' })`
        : `waivers: [{ rule: ${rule}, service: ${decl.service}, reason: "agreed with ${owner}" }]`) +
      `), or ask them to ${inner ? inner(sentence, rule, syntax) : sentence}`;
  }
  // A service port of a category that has no range inside the band belongs nowhere until one of them changes.
  const blocked = ranges.length === 0 && decl.of === 'service' && env.band && decl.category !== undefined
    ? `move a range of category ${decl.category} inside ${formatRange(env.band)} or widen the band of ${env.name}, then move the port there` : undefined;
  // A port given by its place in its category moves by taking another place, not a number.
  const slot = movesPort && decl.of === 'service' && slotOf(decl.spec) !== undefined
    ? { label: `${decl.service}.${decl.portName}`, index: (port: number) => slotIndexOf(decl.spec, env.name, port) } : undefined;
  // A port given by an offset from its band moves by taking another offset.
  const offset = movesPort && decl.of === 'service' && typeof (decl.spec as { offset?: unknown }).offset === 'number' && env.band
    ? { label: `${decl.service}.${decl.portName}`, entry: decl.entry, env: env.name } : undefined;
  return {
    scope: env.scope, protocol: decl.protocol, ...(slot ? { slot } : {}), ...(offset ? { offset } : {}), ranges: ranges.length ? ranges : [[decl.privileged ? 1 : SYSTEM_PORT_LIMIT, 65535]],
    use: { kind: decl.kind, privileged: decl.privileged }, verb, ...(from !== undefined ? { from } : {}), ...(wrap ? { wrap } : {}),
    ...(blocked !== undefined ? { blocked } : {}), ...(movesPort && decl.of === 'service' ? { movesPort: true } : {}),
  };
}
