import { Finding, finding } from '../model/finding';
import { ownEntry, presentIn } from '../model/normalize';
import type { Walk } from './rule';

/**
 * Wiring that can never exist is said, not silently dropped: a public entry that admits nobody,
 * a connection between services that never run in one environment, a cross-environment
 * connection to where the target does not run, a registry with no environment at all.
 */
export const deadWiring: Walk = {
  id: 'dead-wiring',
  run({ spec, index, environments }) {
    const out: Finding[] = [];
    const registry = spec.name;
    if (spec.environments && Object.keys(spec.environments).length === 0) {
      out.push(finding('schema', 'environments is empty: the registry would place no port and write no object', { registry, path: 'environments' },
        'declare at least one environment, or leave environments out for a single default one'));
    }
    // Where each entry runs, once per entry (a target is reached by many connections).
    const where = new Map<object, Set<string>>();
    const runsIn = (entry: Parameters<typeof presentIn>[0]) => {
      let envs = where.get(entry);
      if (!envs) where.set(entry, envs = new Set(presentIn(entry, environments).map(e => e.name)));
      return envs;
    };
    for (let s = 0; s < index.services.length; s++) {
      const name = index.serviceNames[s];
      const svc = index.services[s];
      if (typeof svc.public === 'object' && !(svc.public.namespaces?.length) && !(svc.public.cidrs?.length)) {
        out.push(finding('dead-wiring', `${name} is public to no namespace and no address block, so nothing outside the registry can reach it`,
          { registry, service: name, path: `services.${name}.public` }, 'list the namespaces or cidrs it admits, use public: true, or remove public'));
      }
      const mine = runsIn(svc);
      const everywhere = presentIn(svc, environments) === environments;
      (svc.connectsTo ?? []).forEach((c, i) => {
        const target = ownEntry(spec.services ?? {}, c.to) ?? ownEntry(spec.externals ?? {}, c.to);
        if (!target) return; // unknown-service
        // Entries that run everywhere always meet: the common case needs no comparison.
        if (c.environment === undefined && everywhere && presentIn(target, environments) === environments) return;
        const theirs = runsIn(target);
        const path = `services.${name}.connectsTo[${i}]`;
        if (c.environment !== undefined) {
          if (environments.some(e => e.name === c.environment) && !theirs.has(c.environment)) {
            out.push(finding('dead-wiring', `${name} connects to ${c.to} in ${c.environment}, where ${c.to} does not run`,
              { registry, service: name, environment: c.environment, other: c.to, path }, `let ${c.to} run in ${c.environment}, or name an environment it runs in`));
          }
        } else if (mine.size && ![...mine].some(e => theirs.has(e))) {
          out.push(finding('dead-wiring', `${name} connects to ${c.to}, but they never run in the same environment (${name}: ${[...mine].join(', ')}; ${c.to}: ${[...theirs].join(', ') || 'none'})`,
            { registry, service: name, other: c.to, path }, `run them in a common environment, or name the target's environment (environment: ${[...theirs][0] ?? '<environment>'})`));
        }
      });
    }
    return out;
  },
};
