import { Finding, RULES, finding } from '../model/finding';
import { Environment, SpecIndex, indexSpec, ownEntry, presentIn } from '../model/normalize';
import type { Connection, ExternalSpec, RegistrySpec, ServiceSpec } from '../model/schema';
import { oneOf } from '../model/suggest';

export { closest } from '../model/suggest';

const PER_ENVIRONMENT = ['port', 'targetPort', 'nodePort'] as const;

/** The rule unknown-environment: each of `names` that is not one of the registry's environments. */
/** `who` names what names the environment in the message (a service, or a waiver); `service` goes into `where`. */
function unknownEnvironments(out: Finding[], registry: string, envNames: readonly string[], names: readonly string[], who: string, path: string, service: string | undefined): void {
  for (const env of names) {
    if (!envNames.includes(env)) {
      out.push(finding('unknown-environment', `${who} names environment "${env}", which the registry does not declare`,
        { registry, ...(service !== undefined ? { service } : {}), environment: env, path }, oneOf(env, envNames, 'environments')));
    }
  }
}

// A fast path only: when it answers false, the full check in connectionReferences decides the same.
function hasOnePort(ports: Record<string, unknown>): boolean {
  let n = 0;
  // Stryker disable next-line all: equivalent, a false answer only takes the full check, which reports the same
  for (const _ in ports) if (++n > 1) return false;
  return n === 1;
}

/**
 * The reference rules for one declared connection (unknown-service, unknown-port and the
 * environment it names), as a function the connection pass calls for each connection, so that
 * the registry's connections are walked once for every rule about them.
 */
export function connectionReferences(spec: RegistrySpec, envs: readonly Environment[], out: Finding[]) {
  const registry = spec.name;
  const envNames = envs.map(e => e.name);
  const services = spec.services ?? {};
  const externals = spec.externals ?? {};
  const targets = () => [...Object.keys(services), ...Object.keys(externals)];
  return (name: string, c: Connection, i: number, target: ServiceSpec | ExternalSpec | undefined) => {
    if (target && c.environment === undefined && (c.port === undefined ? hasOnePort(target.ports) : c.port in target.ports)) return;
    const path = `services.${name}.connectsTo[${i}]`;
    if (c.environment !== undefined) unknownEnvironments(out, registry, envNames, [c.environment], name, `${path}.environment`, name);
    if (!target) {
      out.push(finding('unknown-service', `${name} connects to "${c.to}", which the registry does not declare`,
        { registry, service: name, other: c.to, path }, oneOf(c.to, targets(), 'services')));
      return;
    }
    const portNames = Object.keys(target.ports);
    if (c.port === undefined ? portNames.length !== 1 : !portNames.includes(c.port)) {
      const what = c.port === undefined ? `names no port and ${c.to} has ${portNames.length} ports` : `names port "${c.port}", which ${c.to} does not declare`;
      out.push(finding('unknown-port', `the connection from ${name} to ${c.to} ${what}`,
        { registry, service: name, other: c.to, ...(c.port ? { portName: c.port } : {}), path },
        `name one of ${c.to}'s ports: ${portNames.join(', ') || '(none)'}`));
    }
  };
}

/**
 * Everything a registry refers to by name must exist: environments, categories and rules.
 * Connection targets are the connection pass's ({@link connectionReferences}), so that the rule
 * list walks connections once.
 */
export function checkReferences(spec: RegistrySpec, envs: readonly Environment[], index: SpecIndex = indexSpec(spec)): Finding[] {
  const out: Finding[] = [];
  const registry = spec.name;
  const envNames = envs.map(e => e.name);
  const categories = Object.keys(spec.categories ?? {});

  const checkEnvList = (names: readonly string[], service: string, path: string) => unknownEnvironments(out, registry, envNames, names, service, path, service);

  const checkEntry = (name: string, kind: string, entry: ServiceSpec | ExternalSpec) => {
    const base = `${kind}.${name}`;
    if (entry.category !== undefined && !categories.includes(entry.category)) {
      out.push(finding('unknown-category', `${name} is in category "${entry.category}", which the registry does not declare`,
        { registry, service: name, category: entry.category, path: `${base}.category` }, oneOf(entry.category, categories, 'categories')));
    }
    ((entry as ServiceSpec).exclusiveWith ?? []).forEach((other, i) => {
      if (other !== name && ownEntry(spec.services ?? {}, other) !== undefined) return;
      const services = Object.keys(spec.services ?? {});
      out.push(finding('unknown-service', other === name ? `${name} is declared exclusive with itself` : `${name} is exclusive with "${other}", which the registry does not declare as a service`,
        { registry, service: name, other, path: `${base}.exclusiveWith[${i}]` }, other === name ? `remove ${name} from its exclusiveWith` : oneOf(other, services.filter(s => s !== name), 'services')));
    });
    for (const [portName, port] of Object.entries(entry.ports ?? {})) {
      const own = (port as { category?: string }).category;
      if (own === undefined || categories.includes(own)) continue;
      out.push(finding('unknown-category', `port ${name}.${portName} is in category "${own}", which the registry does not declare`,
        { registry, service: name, portName, category: own, path: `${base}.ports.${portName}.category` }, oneOf(own, categories, 'categories')));
    }
    if (entry.environments) checkEnvList(entry.environments, name, `${base}.environments`);
    if (entry.status === 'dev-only') {
      for (const env of presentIn(entry, envs)) {
        if (env.kind === 'production') {
          out.push(finding('dev-only-in-production', `${name} is dev-only but runs in production environment ${env.name}`,
            { registry, service: name, environment: env.name, path: `${base}.environments` },
            `drop ${env.name} from its environments, or give it status 'active'`));
        }
      }
    }
  };
  for (let i = 0; i < index.services.length; i++) checkEntry(index.serviceNames[i], 'services', index.services[i]);
  for (let i = 0; i < index.externals.length; i++) checkEntry(index.externalNames[i], 'externals', index.externals[i]);

  for (let s = 0; s < index.services.length; s++) {
    const name = index.serviceNames[s];
    const svc = index.services[s];
    for (const portName in svc.ports) {
      const p = svc.ports[portName];
      if (Array.isArray(p.internal)) checkEnvList(p.internal, name, `services.${name}.ports.${portName}.internal`);
      // Most ports give plain numbers: only a per-environment map names environments.
      if (typeof p.port !== 'object' && typeof p.targetPort !== 'object' && typeof p.nodePort !== 'object') continue;
      for (const field of PER_ENVIRONMENT) {
        const value = p[field];
        // A number (or nothing) names no environment; the schema allows no null.
        if (typeof value === 'object') {
          checkEnvList(Object.keys(value), name, `services.${name}.ports.${portName}.${field}`);
        }
      }
    }
  }

  (spec.waivers ?? []).forEach((w, i) => {
    const path = `waivers[${i}]`;
    if (!(w.rule in RULES)) {
      out.push(finding('schema', `waiver for unknown rule "${w.rule}"`, { registry, path }, oneOf(w.rule, Object.keys(RULES), 'rules')));
    }
    if (w.environment !== undefined) {
      unknownEnvironments(out, registry, envNames, [w.environment], `the waiver for ${w.rule}${w.service !== undefined ? ` on ${w.service}` : ''}`, path, w.service);
    }
  });
  return out;
}
