/**
 * The rules of what the allocator met while placing ports (lib/allocation/outcomes.ts): each
 * outcome becomes one finding, in the order it was met. Fixes that move a port are planned, not
 * written (lib/allocation/fixes.ts).
 */
import type { Relocation } from '../allocation/fixes';
import { relocate } from '../allocation/fixes';
import type { Allocated, Full, Holder, Outcome, StaleLockEntry } from '../allocation/outcomes';
import { Request, labelOf, portLabel } from '../allocation/request';
import { Finding, Where, finding } from '../model/finding';
import { formatRange } from '../model/normalize';
import type { RegistrySpec } from '../model/schema';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import { relocationOf } from './relocation';

/** Where a request's port is, for a finding. */
export const whereOf = (registry: string, r: Request, port?: number, extra?: Partial<Where>): Where => ({
  registry, service: r.decl.service, environment: r.env.name, portName: r.decl.portName, ...(port !== undefined ? { port } : {}), path: r.decl.path, ...extra,
});

const withPlan = (f: Finding, plan?: Relocation) => (plan ? relocate(f, plan) : f);

/** The findings of the allocator's outcomes: port-source, offset-without-band, no-free-port, collision, lock-stale (the placement rules report the others). */
export function allocationFindings(spec: RegistrySpec, outcomes: readonly Outcome[]): Finding[] {
  return outcomes.map(o => outcomeFinding(spec, o)).filter((f): f is Finding => f !== undefined);
}

function outcomeFinding(spec: RegistrySpec, o: Outcome): Finding | undefined {
  const registry = spec.name;
  switch (o.kind) {
    case 'several-sources':
      return finding('port-source', `${o.service}.${o.portName} sets ${o.sources.join(' and ')}; a port is given by exactly one of them`,
        { registry, service: o.service, portName: o.portName, path: o.path }, `keep one of ${o.sources.join(', ')}`);
    case 'no-source':
      return finding('port-source', `${o.service}.${o.portName} sets auto: false but neither port nor offset, so it would still be allocated automatically`,
        { registry, service: o.service, portName: o.portName, path: `${o.path}.auto` }, 'give it port: or offset:, or remove auto: false (a port without either is automatic)');
    case 'no-port-for-environment':
      return finding('port-source', `${o.service}.${o.portName} gives ports per environment but none for ${o.environment}`,
        { registry, service: o.service, portName: o.portName, environment: o.environment, path: `${o.path}.port` }, `add ${o.environment}: <port> to its port map`);
    case 'no-band': {
      const { decl, env } = o;
      return finding('offset-without-band', `${decl.service}.${decl.portName} uses an offset, but environment ${env.name} has no band`,
        { registry, service: decl.service, environment: env.name, portName: decl.portName, path: decl.path },
        `give ${env.name} a range, or give ${decl.service}.${decl.portName} an explicit port`);
    }
    case 'not-in-range':
    case 'fallback-refused':
      // port-range, avoided-port and privileged-port: reported by those placement rules (lib/rules/placement.ts).
      return undefined;
    case 'no-common-offset': {
      const r = o.requests[0];
      return finding('no-free-port', `no offset is free in every band of ${o.requests.map(x => x.env.name).join(', ')} for ${r.decl.service}.${r.decl.portName}`,
        { registry, service: r.decl.service, portName: r.decl.portName, path: r.decl.path }, 'widen the bands or free an offset');
    }
    case 'full':
      return noFreePort(spec, o);
    case 'allocated':
      return collision(spec, o);
    case 'stale-lock':
      return staleLock(registry, o);
  }
}

/** No free port for an automatic port, and why. */
function noFreePort(spec: RegistrySpec, o: Full): Finding | undefined {
  const r = o.request;
  const where = whereOf(spec.name, r);
  const ranges = r.ranges.map(formatRange).join(', ');
  switch (o.why) {
    case 'invalid-range':
      // The invalid-range rule reports it.
      return undefined;
    case 'category-outside-band': {
      const band = formatRange(r.env.band!);
      return finding('no-free-port', `no free port for ${labelOf(r)}: the ranges of category ${r.decl.category} ` +
        `(${(spec.categories![r.decl.category!].ranges ?? []).map(formatRange).join(', ')}) lie outside the band ${band} of ${r.env.name}`, where,
      `move a range of category ${r.decl.category} inside ${band}, or widen the band of ${r.env.name}`);
    }
    case 'no-range':
      return finding('no-free-port', `no free port for ${labelOf(r)}: it has no range: give the environment a band (range) or the service a category`, where,
        `add range: [first, last] to environment ${r.env.name}`);
    case 'sequential':
      return finding('no-free-port', `no free port for ${labelOf(r)}: category ${r.decl.category} assigns sequentially and no port is free after the highest one used in ${ranges}`,
        where, 'widen the range or free a port');
    case 'taken':
      return finding('no-free-port', `no free port for ${labelOf(r)}: every port of ${ranges} is taken or avoided`, where, 'widen the range or free a port');
  }
}

/** How a collision names the holder of a port (a stale lock entry has no label). */
function holderLabel(holder: Holder): string | undefined {
  if (holder.kind === 'port') return portLabel(holder.allocation.service, holder.allocation.portName, holder.allocation.of, holder.allocation.environment);
  return holder.kind === 'fallback' ? labelOf(holder.request) : undefined;
}

/** The same port of the same service: in another environment of the scope, or its own fallback there. */
function sameDeclaration(r: Request, holder: Holder): string | undefined {
  if (holder.kind === 'port') {
    const a = holder.allocation;
    return a.of === r.decl.of && a.service === r.decl.service && a.portName === r.decl.portName ? a.environment : undefined;
  }
  return holder.kind === 'fallback' && holder.request.decl === r.decl ? holder.request.env.name : undefined;
}

/** A port (fallback, NodePort) taken by someone else. Its fix is written with every other fix (lib/allocation/fixes.ts). */
function collision(spec: RegistrySpec, c: Allocated): Finding {
  const r = c.request;
  const { holder } = c;
  const label = holderLabel(holder);
  const stale = holder.kind === 'stale' ? holder.key : undefined;
  const other = label ? `${label}${holder.kind === 'fallback' ? ' as its fallback' : ''}` : `lock entry ${stale} (stale)`;
  const where = { ...whereOf(spec.name, r, c.port), other: label ?? `lock entry ${stale}`, ...(c.what === 'fallback' ? { path: `${r.decl.path}.fallback` } : {}) };
  const report = (message: string, at: Where, fix?: string, plan?: Relocation) => withPlan(finding('collision', message, at, fix), plan);
  if (c.what === 'nodePort') {
    const theirs = holder.kind === 'port' ? holder.allocation.protocol : undefined;
    const across = theirs !== undefined && theirs !== r.decl.protocol ? ` on ${theirs} (a NodePort number is taken whatever its protocol)` : '';
    return report(`NodePort ${c.port}/${r.decl.protocol} of ${labelOf(r)} is already the NodePort of ${other}${across} (scope ${r.env.scope})`,
      { ...where, path: `${r.decl.path}.nodePort` }, `give one of them another NodePort in ${formatRange(r.env.nodePortRange)}, or leave nodePort out to let Kubernetes choose`);
  }
  // The same port of the same service in another environment of the scope: the environments
  // share a host, and the port cannot be in both. Moving it is one fix; the others are about scopes.
  const selfEnv = sameDeclaration(r, holder);
  if (selfEnv !== undefined) {
    const envs = [selfEnv, r.env.name];
    return report(`${r.decl.service}.${r.decl.portName} runs in ${envs.join(' and ')}, which share a host (scope ${r.env.scope}), ` +
      `and its ${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.decl.protocol} would be the same in both`, where,
    `give the environments different scopes (environments.${r.env.name}.scope), limit ${r.decl.service} to one of them (environments: [${envs[0]}]), ` +
      (c.what === 'fallback' ? 'or give it a fallback that follows its port in each environment (fallback: { shift: <n> })'
        : `or give it a port per environment (port: { ${envs[0]}: ${c.port}, ${r.env.name}: <another port> })`));
  }
  const message = `${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.decl.protocol} of ${labelOf(r)} is already taken by ${other} (scope ${r.env.scope})`;
  if (c.what === 'port') {
    return report(message, where, undefined, relocationOf(r.decl, r.env, r.ranges, `move ${r.decl.service}.${r.decl.portName} in ${r.env.name} to a free port in`, c.port));
  }
  // Another fallback, not another port: where the category keeps fallbacks, else any port it may bind.
  // (The port space keeps fallback ranges from primary ports, so a free one there is not searched for: the range is named.)
  const kept = r.decl.category !== undefined ? spec.categories?.[r.decl.category]?.fallbackRanges : undefined;
  if (kept?.length) {
    return report(message, where,
      `choose another fallback for ${r.decl.service}.${r.decl.portName} in ${r.env.name} in ${kept.map(formatRange).join(', ')}, one no other port of scope ${r.env.scope} uses`);
  }
  return report(message, where, undefined, relocationOf(r.decl, r.env, [[r.decl.privileged ? 1 : SYSTEM_PORT_LIMIT, 65535]],
    `choose another fallback for ${r.decl.service}.${r.decl.portName} in ${r.env.name}, a free port in`, c.port, undefined, false));
}

/** A lock entry no automatic port uses: it is dropped. */
function staleLock(registry: string, o: StaleLockEntry): Finding {
  const { key, value } = o;
  const offset = key.startsWith('offset ');
  const [a, b] = (offset ? key.slice('offset '.length) : key).split('/');
  return finding('lock-stale', `lock entry ${key} = ${value} belongs to no automatic port of the registry; it is dropped`,
    { registry, service: offset ? a : b, ...(offset ? {} : { environment: a }), port: value, path: `ports.lock.json ${key}` },
    'commit the updated ports.lock.json');
}
