import { isInternalIn } from '../model/normalize';
import { yamlLib } from '../file/yaml-lib';
import type { ResolvedRegistry } from '../model/resolved';
import { parsePortEntry } from './ports';
import { Finding, finding } from '../model/finding';

/**
 * Compares an existing docker-compose file with the registry: a service the registry knows
 * must publish the registry's port, and no service may publish a port the registry gives to
 * someone else. Pure: the caller reads the file.
 */
export function checkComposeText(resolved: ResolvedRegistry, text: string, file: string, environment?: string): Finding[] {
  const registry = resolved.spec.name;
  const lines = new (yamlLib().LineCounter)();
  const doc = yamlLib().parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    return [finding('compose-file', `${file} is not valid YAML: ${e.message.split('\n')[0]}`, { registry, file: at(e.pos[0]) }, 'fix the YAML')];
  }
  // Stryker disable next-line BooleanLiteral: equivalent, keepScalar changes only what a scalar gives, and a scalar is no map either way
  const services = doc.get('services', true);
  if (!yamlLib().isMap(services)) {
    return [finding('compose-file', `${file} has no services map`, { registry, file }, 'check that it is a docker-compose file')];
  }
  const allocations = resolved.allocations.filter(a => environment === undefined || a.environment === environment);
  const out: Finding[] = [];
  // A registry entry may have another name in compose files (`composeName`).
  const byComposeName = new Map<string, string>();
  for (const entries of [resolved.spec.services, resolved.spec.externals]) {
    // Stryker disable next-line ConditionalExpression: equivalent, an undefined key is never looked up (compose names are strings)
    for (const [name, entry] of Object.entries(entries ?? {})) if (entry.composeName) byComposeName.set(entry.composeName, name);
  }
  for (const pair of services.items) {
    // Stryker disable next-line LogicalOperator,OptionalChaining: equivalent, the parser's keys are nodes, and a scalar node prints as its value
    const composeName = String((pair.key as { value?: unknown })?.value ?? pair.key);
    const name = byComposeName.get(composeName) ?? composeName;
    const svc = pair.value;
    // Stryker disable next-line BooleanLiteral: equivalent, keepScalar changes only what a scalar gives, and a scalar is no list either way
    const ports = yamlLib().isMap(svc) ? svc.get('ports', true) : undefined;
    if (!yamlLib().isSeq(ports)) continue;
    const own = allocations.filter(a => a.service === name);
    for (const item of ports.items) {
      const where = at((item as { range?: [number] }).range?.[0]);
      let mappings;
      try {
        mappings = parsePortEntry((item as { toJSON(): unknown }).toJSON());
      } catch (e) {
        out.push(finding('compose-file', `${file}: service ${composeName}: ${(e as Error).message}`, { registry, service: name, file: where }, 'fix the port entry'));
        continue;
      }
      for (const m of mappings) {
        if (m.published === undefined) continue;
        const protocol = m.protocol.toUpperCase();
        const mine = own.some(a => a.port === m.published && a.protocol === protocol);
        // Whose the published port is, when not this service's: the worse half of a drift.
        const taken = mine ? undefined : allocations.find(a => a.port === m.published && a.protocol === protocol && a.service !== name);
        if (own.length > 0 && !mine) {
          const expected = own.map(a => `${a.port}/${a.protocol} (${a.portName}, ${a.environment})`).join(', ');
          const also = taken ? `; ${m.published}/${protocol} is ${taken.service}.${taken.portName}'s (${taken.environment}), so the two would clash` : '';
          out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, but the registry gives ${name} ${expected}${also}`,
            { registry, service: name, port: m.published, file: where, ...(environment ? { environment } : {}), ...(taken ? { other: `${taken.service}.${taken.portName}` } : {}) },
            `publish ${own[0].port} (or change the registry and synthesize again)`));
          continue;
        }
        // Its own port, which the registry keeps off the host (internal) wherever it gives it this number.
        const matching = own.filter(a => a.port === m.published && a.protocol === protocol);
        if (matching.length && matching.every(a => isInternalIn(resolved.spec.services?.[name]?.ports?.[a.portName], a.environment))) {
          const a = matching[0];
          out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, but the registry keeps ${name}.${a.portName} internal (not published) in ${[...new Set(matching.map(x => x.environment))].join(', ')}`,
            { registry, service: name, portName: a.portName, port: m.published, file: where, ...(environment ? { environment } : {}) },
            `list it under expose: ["${a.targetPort}"] instead of ports:, or publish it in the registry (internal)`));
          continue;
        }
        // Here the registry gives this service no port at all (or it published its own): whose is the port?
        if (taken) {
          out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, which the registry gives ${taken.service}.${taken.portName} (${taken.environment})`,
            { registry, service: name, port: m.published, other: `${taken.service}.${taken.portName}`, file: where, environment: taken.environment },
            `publish a port the registry allocates to ${name}, or declare ${name} in the registry`));
        }
      }
    }
  }
  return out;
}
