/** The default pod selector, in one place (no imports: the CLI's commands load it at start). */

/** The label a service's pods carry by default: `app.kubernetes.io/name: <service>`. */
export const NAME_LABEL = 'app.kubernetes.io/name';

/** The labels of a service's pods: what its Service and NetworkPolicies select (its `selector`, or the name label). */
export function podSelectorOf(name: string, svc: { readonly selector?: Readonly<Record<string, string>> }): Record<string, string> {
  return { ...(svc.selector ?? { [NAME_LABEL]: name }) };
}
