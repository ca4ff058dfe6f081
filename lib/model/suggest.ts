import { distance } from 'fastest-levenshtein';

/** Did-you-mean for a misspelt name: the one candidate it abbreviates, else the closest within two edits. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const abbreviated = candidates.filter(c => word.length >= 3 && c.startsWith(word));
  if (abbreviated.length === 1) return abbreviated[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** A fix for a name that is not one of `candidates`: the likely one, or the list. */
export function oneOf(word: string, candidates: readonly string[], noun: string): string {
  const guess = closest(word, candidates);
  if (guess) return `did you mean "${guess}"?`;
  return candidates.length ? `declared ${noun}: ${candidates.join(', ')}` : `the registry declares no ${noun}`;
}
