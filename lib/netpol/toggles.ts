/**
 * Labels a pod the folder does not list may carry on top of a stand-in's: the values a `NotIn`
 * excludes and the keys a `DoesNotExist` or an `Exists` asks about. A stand-in with the fewest
 * labels a selector asks for is selected by every `NotIn`/`DoesNotExist` peer and no `Exists`
 * one; a real pod with one of these labels more is not (or is), so verify gives each stand-in a
 * twin with each of them (issue #34: a pod of a folder namespace with extra labels).
 */
import type { LabelSelector } from './model';

/** The value a stand-in gets for a label that is only asked to exist (as in satisfying()). */
const ANY_VALUE = 'any';

/** [key, value] pairs that change whether some selector selects a pod (see the module's comment). */
export function labelToggles(selectors: Iterable<LabelSelector | undefined>): Array<[string, string]> {
  const out = new Map<string, [string, string]>();
  const add = (k: string, v: string) => out.set(`${k}\u0000${v}`, [k, v]);
  for (const s of selectors) {
    for (const e of s?.matchExpressions ?? []) {
      if (e.operator === 'NotIn') for (const v of e.values ?? []) add(e.key, v);
      else if (e.operator === 'DoesNotExist' || e.operator === 'Exists') add(e.key, ANY_VALUE);
    }
  }
  return [...out.values()];
}
