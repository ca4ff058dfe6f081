/**
 * Stand-ins for what a folder of manifests does not list: pods of some labels in some namespace,
 * namespaces of some labels, addresses. Each is made once (a pod of the folder with exactly the
 * labels stands for itself); the selectors' wants are read with {@link satisfying}.
 */
import { Cluster } from './cluster';
import { Address, Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, cidrContains, endpointId, selects, soleKey } from './model';
import { labelText } from './findings';

/** A namespace that is none of the registry's (its name cannot be a real one: it has parentheses). */
export const ELSEWHERE = '(another-namespace)';
export const UNLISTED = '(unlisted-pod)';

/**
 * A key for a peer: equal for peers that select alike as written. A pod selector of one label and
 * nothing else (the generator's peers) is `k\u0001v` without JSON; any other peer is its JSON
 * (which starts with `{`).
 */
export function peerKey(peer: { readonly podSelector?: LabelSelector; readonly namespaceSelector?: LabelSelector; readonly ipBlock?: unknown }): string {
  const s = peer.podSelector;
  // (Only a pod selector, of only matchLabels, of only one label.)
  if (s && soleKey(peer) === 'podSelector' && soleKey(s) === 'matchLabels') {
    const only = soleKey(s.matchLabels);
    if (only !== undefined) return `${only}\u0001${s.matchLabels![only]}`;
  }
  return JSON.stringify(peer);
}

/** The value a stand-in gets for a label a selector only asks to exist. */
const ANY_VALUE = 'any';

/**
 * The fewest labels a selector selects (its `matchLabels`, a value for each `In` and `Exists`), or
 * undefined when no label set satisfies it.
 */
export function satisfying(selector: LabelSelector): Record<string, string> | undefined {
  const labels: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  const exprs = selector.matchExpressions ?? [];
  const excluded = (key: string, v: string) => exprs.some(e => e.key === key &&
    ((e.operator === 'NotIn' && (e.values ?? []).includes(v)) || (e.operator === 'In' && !(e.values ?? []).includes(v))));
  for (const e of exprs) {
    if (Object.prototype.hasOwnProperty.call(labels, e.key)) continue;
    if (e.operator === 'In') {
      const v = (e.values ?? []).find(x => !excluded(e.key, x));
      if (v === undefined) return undefined;
      labels[e.key] = v;
    } else if (e.operator === 'Exists') {
      // (An `In` of the same key names the values; otherwise a value no `NotIn` lists.)
      const named = exprs.find(x => x.key === e.key && x.operator === 'In');
      let v: string | undefined = named ? (named.values ?? []).find(x => !excluded(e.key, x)) : ANY_VALUE;
      for (let i = 2; v !== undefined && !named && excluded(e.key, v); i++) v = `${ANY_VALUE}${i}`;
      if (v === undefined) return undefined;
      labels[e.key] = v;
    }
  }
  return selects(selector, labels) ? labels : undefined;
}

/** A key for a label set, equal for equal sets: one label (the most common case) is `k\u0001v`, without a sort or JSON; a JSON key starts with `[`. */
function labelsKey(labels: Record<string, string>): string {
  const only = soleKey(labels);
  if (only !== undefined) return `${only}\u0001${labels[only]}`;
  return JSON.stringify(Object.keys(labels).sort().map(k => [k, labels[k]]));
}

/**
 * The stand-ins made so far (pods, namespaces, addresses) beside the pods of a folder, each made
 * once, and the ports declared towards each end (they cut its intervals).
 */
export class StandIns {
  readonly probes: Endpoint[] = [];
  private readonly ids: Set<string>;
  /** Stand-in pods, one per namespace and label set (a pod of the folder that has the labels stands for itself). */
  private readonly memo = new Map<string, Pod>();
  /** The stand-in pods of each namespace. */
  readonly inNamespace = new Map<string, Pod[]>();
  /** Stand-in namespaces made for a selector (filled in before their pods are made; their labels are shown). */
  readonly extraNamespaces = new Map<string, Record<string, string>>();
  /** Every namespace known: the folder's, the registries', the stand-ins. */
  readonly knownNamespaces: Map<string, Readonly<Record<string, string>>>;
  private readonly namespacesFor = new Map<string, string[]>();
  /** The stand-in addresses by address. */
  readonly addresses = new Map<string, Address>();
  private readonly inMemo = new Map<string, Address[]>();
  readonly extraPorts = new Map<Endpoint, Map<string, { port: number; protocol: string }>>();

  constructor(private readonly base: Cluster) {
    this.ids = new Set<string>(base.pods.map(endpointId));
    this.knownNamespaces = new Map(base.namespaces());
  }

  /** Whether a pod of the folder or a stand-in has this id (`namespace/name`). */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  addPort(e: Endpoint, port: number, protocol: string): void {
    let m = this.extraPorts.get(e);
    if (!m) this.extraPorts.set(e, m = new Map());
    m.set(`${port}/${protocol}`, { port, protocol });
  }

  addAddress(a: Address): void {
    this.addresses.set(a.ip, a);
    this.probes.push(a);
  }

  /** A stand-in the caller made (the cluster DNS), or a pod of the folder, to stand for its labels. */
  remember(pod: Pod, isNew: boolean): void {
    if (isNew) this.probes.push(pod);
    this.memo.set(`${pod.namespace}\u0000${labelsKey(pod.labels)}`, pod);
  }

  private nsLabelsOf(ns: string): Record<string, string> | undefined {
    const labels = this.extraNamespaces.get(ns);
    return labels && Object.keys(labels).some(k => k !== NAMESPACE_NAME_LABEL) ? labels : undefined;
  }

  /** The pod that stands for pods of these labels in a namespace (named `name` when it is made). */
  pod(namespace: string, name: string, labels: Record<string, string>): Pod {
    const memoKey = `${namespace}\u0000${labelsKey(labels)}`;
    const memo = this.memo.get(memoKey);
    if (memo) return memo;
    // A pod of the folder with exactly these labels stands for itself; otherwise a stand-in with them.
    // (One with more labels would not do: a policy may select it for its extra labels, and not a pod without them.)
    const keys = Object.keys(labels);
    let pod: Pod | undefined = keys.length > 0
      ? this.base.selectedIn(namespace, { matchLabels: labels }).find(p => Object.keys(p.labels).length === keys.length)
      : undefined;
    if (!pod) {
      let id = name;
      for (let i = 2; this.ids.has(`${namespace}/${id}`); i++) id = `${name}-${i}`;
      const shown = Object.keys(labels).length ? `labelled ${labelText(labels)}` : 'of any labels';
      const nsLabels = this.nsLabelsOf(namespace);
      // (Their ports are not known: a named port may be any; and there may be many of them.)
      pod = { namespace, name: id, labels, ports: [], source: `a stand-in for pods ${shown} the folder does not list`, several: true, anyPorts: true, ...(nsLabels ? { namespaceLabels: nsLabels } : {}) };
      this.probes.push(pod);
      this.ids.add(`${namespace}/${id}`);
      const list = this.inNamespace.get(namespace);
      if (list) list.push(pod); else this.inNamespace.set(namespace, [pod]);
    }
    this.memo.set(memoKey, pod);
    return pod;
  }

  /** The stand-in addresses a CIDR holds (whole intervals: every CIDR is a cut). */
  addressesIn(cidr: string): Address[] {
    let list = this.inMemo.get(cidr);
    if (!list) this.inMemo.set(cidr, list = [...this.addresses.values()].filter(a => cidrContains(cidr, a.ip)));
    return list;
  }

  /** A namespace a registry names, or the one that stands for every other: known by its name label. */
  knowNamespace(ns: string): void {
    if (!this.knownNamespaces.has(ns)) this.knownNamespaces.set(ns, { [NAMESPACE_NAME_LABEL]: ns });
  }

  /** A namespace made up for a selector, with the labels it asks for. */
  addNamespace(name: string, labels: Record<string, string>): void {
    this.extraNamespaces.set(name, labels);
    this.knownNamespaces.set(name, labels);
  }

  /**
   * The namespaces a namespace selector selects: those known, and a stand-in with the labels it
   * asks for (named as the selector names it, or `(namespace with k=v)`), made when none is.
   */
  namespacesOf(selector: LabelSelector): string[] {
    const key = JSON.stringify(selector);
    let list = this.namespacesFor.get(key);
    if (list) return list;
    list = [];
    for (const [ns, labels] of this.knownNamespaces) if (selects(selector, labels)) list.push(ns);
    // Each namespace an `In` on the name label lists is a namespace of its own: one the folder lacks gets a stand-in.
    for (const e of selector.matchExpressions ?? []) {
      if (e.key !== NAMESPACE_NAME_LABEL || e.operator !== 'In') continue;
      for (const v of e.values ?? []) {
        if (this.knownNamespaces.has(v)) continue;
        const labels = satisfying({ ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [NAMESPACE_NAME_LABEL]: v } });
        if (!labels || !selects(selector, labels)) continue;
        this.addNamespace(v, labels);
        list.push(v);
      }
    }
    const wanted = satisfying(selector);
    // (A selector another namespace meets already needs none of its own: `{}` or `team NotIn [a]`.)
    if (wanted && (Object.keys(wanted).length > 0 || !list.includes(ELSEWHERE))) this.wantedNamespace(selector, wanted, list);
    this.namespacesFor.set(key, list);
    return list;
  }

  /** The stand-in namespace with the labels a selector asks for (`wanted`), added to its `list`. */
  private wantedNamespace(selector: LabelSelector, wanted: Record<string, string>, list: string[]): void {
    const pinned = wanted[NAMESPACE_NAME_LABEL];
    const name = pinned ?? (Object.keys(wanted).length ? `(namespace with ${labelText(wanted)})` : `${ELSEWHERE.slice(0, -1)}-${this.namespacesFor.size + 2})`);
    const labels = { ...wanted, [NAMESPACE_NAME_LABEL]: name };
    if (!this.knownNamespaces.has(name) && selects(selector, labels)) {
      this.addNamespace(name, labels);
      list.push(name);
    } else if (pinned !== undefined && this.extraNamespaces.has(name) && !list.includes(name)) {
      // A stand-in of that name exists with fewer labels (`{name: out}`, now `{name: out, team: a}`):
      // the real namespace may carry both, so the stand-in takes the union where every selector that
      // chose it still does (and the lists of the selectors it now meets get it too).
      const merged = { ...this.extraNamespaces.get(name)!, ...labels };
      const choosers = [...this.namespacesFor].filter(([, l]) => l.includes(name)).map(([k]) => JSON.parse(k) as LabelSelector);
      if (selects(selector, merged) && choosers.every(s => selects(s, merged))) {
        this.addNamespace(name, merged);
        list.push(name);
        for (const [k, l] of this.namespacesFor) if (!l.includes(name) && selects(JSON.parse(k) as LabelSelector, merged)) l.push(name);
      } else {
        // Labels no stand-in of that name can take with the others (`team=a` and `team=b`): a
        // namespace of that name with these labels instead, as a second stand-in (its id is no
        // namespace name; its name label is the name).
        const variant = `${name} (${labelText(wanted)})`;
        if (!this.knownNamespaces.has(variant)) this.addNamespace(variant, labels);
        list.push(variant);
      }
    }
  }
}
