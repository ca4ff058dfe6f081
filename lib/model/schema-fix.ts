import type { core } from 'zod';
import { closest } from './suggest';

/** The value found at a zod issue's path in the data it was raised on (undefined where the path leaves the data). */
export function valueAtPath(data: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], data);
}

/**
 * The fix of a schema finding, from what zod says is expected there: the values allowed, the
 * type (`expected` when the caller knows it better, from the JSON schema), the bound, or zod's
 * own words; `got` is the value found, for the closest allowed one.
 */
export function schemaFix(issue: core.$ZodIssue, at: string, got?: unknown, expected?: string): string {
  const where = at || 'the top level';
  switch (issue.code) {
    case 'invalid_value': {
      const values = issue.values.map(v => JSON.stringify(v));
      if (values.length === 1) return `set ${where} to ${values[0]}`;
      const guess = typeof got === 'string' ? closest(got, issue.values.filter((v): v is string => typeof v === 'string')) : undefined;
      return `set ${where} to ${guess !== undefined ? `${JSON.stringify(guess)} (one of ${values.join(', ')})` : `one of ${values.join(', ')}`}`;
    }
    case 'invalid_type':
      return `set ${where} to ${expected ?? `a ${issue.expected}`}`;
    case 'invalid_union': {
      // What each branch of the union expected of the value itself.
      const kinds = [...new Set(issue.errors.flatMap(branch => branch.flatMap(i => i.code === 'invalid_type' && i.path.length === 0 ? [`a ${i.expected}`] : [])))];
      return `set ${where} to ${expected ?? (kinds.length ? kinds.join(' or ') : 'a value of the model (see the README)')}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const word = issue.code === 'too_small' ? (inclusive ? 'at least' : 'more than') : (inclusive ? 'at most' : 'less than');
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' || issue.origin === 'set' ? ' entries' : '';
      return issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set'
        ? `give ${where} ${word} ${String(bound)}${unit}` : `set ${where} to a number ${word} ${String(bound)}`;
    }
    default:
      return `set ${where} to a value that satisfies: ${issue.message}`;
  }
}
