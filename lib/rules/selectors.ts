import { Finding, finding } from '../model/finding';
import { presentIn } from '../model/normalize';
import { NAME_LABEL, podSelectorOf } from '../model/labels';
import type { Walk } from './rule';

const text = (labels: Readonly<Record<string, string>>) => Object.keys(labels).sort().map(k => `${k}=${labels[k]}`).join(',');

/**
 * `selector-overlap`: two services of one environment whose selectors select the same pods (one
 * selector holds every label of the other, or they are equal). Every pod of the narrower service
 * then carries the wider one's labels: the wider service's NetworkPolicies select it, and what
 * they allow reaches it. Selectors on different keys are not reported (a pod would need both).
 * Each selector's subsets are looked up (a few labels: a few lookups), not every pair compared.
 */
export const selectorOverlap: Walk = {
  id: 'selector-overlap',
  run(ctx) {
    const out: Finding[] = [];
    const registry = ctx.spec.name;
    const services = ctx.spec.services ?? {};
    const deployed = (status: string | undefined) => status === undefined || status === 'active' || status === 'dev-only';
    // The services by their selector written as text (those of every environment: a list is filtered
    // by environment only where it holds another service than the one looked at, which is rare).
    const bySelector = new Map<string, string[]>();
    const selectorOf = (name: string) => podSelectorOf(name, services[name]);
    const names = Object.keys(services).filter(n => deployed(services[n].status));
    const own = names.map(name => text(selectorOf(name)));
    names.forEach((name, n) => {
      const list = bySelector.get(own[n]);
      if (list) list.push(name); else bySelector.set(own[n], [name]);
    });
    const runsIn = (name: string, env: string) => presentIn(services[name], ctx.environments).some(e => e.name === env);
    const reported = new Set<string>();
    names.forEach((name, n) => {
      const selector = selectorOf(name);
      const keys = Object.keys(selector).sort();
      // A selector of more than a few labels is rare; its subsets are bounded all the same.
      if (keys.length > 8 || keys.length === 0) return;
      const full = (1 << keys.length) - 1;
      for (const env of presentIn(services[name], ctx.environments)) {
        for (let mask = 1; mask <= full; mask++) {
          let subsetKey = own[n];
          if (mask !== full) {
            const subset: Record<string, string> = {};
            keys.forEach((k, i) => { if (mask & (1 << i)) subset[k] = selector[k]; });
            subsetKey = text(subset);
          }
          const wides = bySelector.get(subsetKey);
          // Only the service itself has this selector (most services: their own name label).
          if (!wides || (wides.length === 1 && wides[0] === name)) continue;
          for (const wide of wides) {
            if (wide === name || !runsIn(wide, env.name)) continue;
            const equal = mask === (1 << keys.length) - 1;
            const pair = equal ? [name, wide].sort().join('\u0000') : `${name}\u0000${wide}`;
            if (reported.has(pair)) continue;
            reported.add(pair);
            const [a, b] = equal ? [name, wide].sort() : [name, wide];
            out.push(finding('selector-overlap', equal
              ? `services ${a} and ${b} have the same selector ${text(selectorOf(a))}: each one's NetworkPolicies select the other's pods, and what they allow reaches them`
              : `every pod of service ${a} (selector ${text(selector)}) also matches the selector of service ${b} (${text(selectorOf(b))}): ${b}'s NetworkPolicies select ${a}'s pods, and what they allow reaches them`,
            { registry, service: a, other: b, environment: env.name, path: `services.${a}${services[a].selector ? '.selector' : ''}` },
            `give ${a} a selector with a label ${b}'s selector does not ask for (${NAME_LABEL}: ${a}, the default, is one)`));
          }
        }
      }
    });
    return out;
  },
};
