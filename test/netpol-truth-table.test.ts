/**
 * A truth table for the NetworkPolicy evaluator (lib/netpol), in the style of cyclonus (the
 * kubernetes-sigs network-policy-api policy assistant): small clusters written as Kubernetes
 * objects, read through the loader (`clusterOf`), and the traffic they allow written down by hand
 * from the Kubernetes documentation
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the
 * networking.k8s.io/v1 API reference). No expected value here is computed by code.
 *
 * Notation:
 * - a matrix per port: rows are sources, columns destinations; `.` allowed, `X` blocked, `-` a pod
 *   to itself (not evaluated);
 * - a probe: `[from, to, port, protocol, 'allow' | 'deny']`, an endpoint being `namespace/name`
 *   for a pod and an IP address otherwise;
 * - paths: the full, sorted list `Cluster.paths()` returns, as `from -> to port/protocol`.
 */
import { RegistrySpec, checkRegistry } from '../lib';
import { Cluster, subtractPaths } from '../lib/netpol/cluster';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InvalidValue, clusterOf, loadFolder } from '../lib/netpol/load';
import { Endpoint, Pod } from '../lib/netpol/model';
import { TrafficFinding, invalidValueFinding, verifyCluster } from '../lib/netpol/verify';
import { generatedObjects } from './support/generated';

type Labels = Record<string, string>;
type Obj = Record<string, unknown>;
type PortDecl = number | { name?: string; containerPort: number; protocol?: string };

// ---------------------------------------------------------------------------------------------
// Kubernetes objects, as a manifest would have them.
// ---------------------------------------------------------------------------------------------

const namespace = (name: string, labels?: Labels): Obj => ({
  apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) },
});

const containers = (ports: PortDecl[]) => [{
  name: 'main', image: 'registry.example/app:1',
  ...(ports.length ? { ports: ports.map(p => (typeof p === 'number' ? { containerPort: p } : p)) } : {}),
}];

const pod = (ns: string, name: string, labels: Labels, ports: PortDecl[] = [80]): Obj => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: containers(ports) },
});

const deployment = (ns: string, name: string, templateLabels: Labels, ports: PortDecl[] = [80], objectLabels?: Labels): Obj => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { namespace: ns, name, ...(objectLabels ? { labels: objectLabels } : {}) },
  spec: { selector: { matchLabels: templateLabels }, template: { metadata: { labels: templateLabels }, spec: { containers: containers(ports) } } },
});

const netpol = (ns: string | undefined, name: string, spec: Obj): Obj => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec,
});

/** The ports every pod of the base cluster declares. */
const BASE_PORTS: PortDecl[] = [
  { name: 'http', containerPort: 80 },
  { name: 'alt', containerPort: 81, protocol: 'TCP' },
  { name: 'dns', containerPort: 53, protocol: 'UDP' },
];

/**
 * The base cluster, three namespaces and five pods:
 *
 *   namespace x  {team: front}      x/a {app: a, tier: web}   x/b {app: b}
 *   namespace y  {team: back}       y/a {app: a, tier: db}    y/b {app: b, tier: web}
 *   namespace z  (no labels)        z/c {app: c}
 *
 * Every namespace also carries kubernetes.io/metadata.name: <name>.
 */
const BASE: Obj[] = [
  namespace('x', { team: 'front' }),
  namespace('y', { team: 'back' }),
  namespace('z'),
  pod('x', 'a', { app: 'a', tier: 'web' }, BASE_PORTS),
  pod('x', 'b', { app: 'b' }, BASE_PORTS),
  pod('y', 'a', { app: 'a', tier: 'db' }, BASE_PORTS),
  pod('y', 'b', { app: 'b', tier: 'web' }, BASE_PORTS),
  pod('z', 'c', { app: 'c' }, BASE_PORTS),
];

const base = (...policies: Obj[]): Obj[] => [...BASE, ...policies];

const ALL_ALLOWED = `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`;

// ---------------------------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------------------------

type Verdict = 'allow' | 'deny';
type Probe = [from: string, to: string, port: number, protocol: string, expected: Verdict];

interface Case {
  readonly name: string;
  readonly objects: Obj[];
  /** Matrices by `port/protocol`. */
  readonly matrices?: Readonly<Record<string, string>>;
  readonly probes?: readonly Probe[];
  /** `Cluster.paths()` with these sources (default: every pod) and targets (default: every pod on its container ports). */
  readonly paths?: {
    readonly sources?: readonly string[];
    readonly targets?: ReadonlyArray<readonly [to: string, ports: readonly string[]]>;
    readonly expected: readonly string[];
  };
  /** The pods the loader finds, `namespace/name`, in any order. */
  readonly pods?: readonly string[];
}

const CASES: Case[] = [
  // --- No policy: everything is allowed ---------------------------------------------------------
  {
    // no policy = all allowed (TCP)
    name: 'no policy: every pod reaches every pod',
    objects: base(),
    matrices: { '80/TCP': ALL_ALLOWED, '81/TCP': ALL_ALLOWED },
  },
  {
    // no policy = all allowed (UDP, undeclared ports, addresses both ways)
    name: 'no policy: any port, any protocol, addresses in and out',
    objects: base(),
    matrices: { '53/UDP': ALL_ALLOWED },
    probes: [
      ['x/a', 'z/c', 9999, 'TCP', 'allow'],
      ['y/b', 'x/b', 3868, 'SCTP', 'allow'],
      ['203.0.113.5', 'y/a', 80, 'TCP', 'allow'],
      ['x/a', '8.8.8.8', 443, 'TCP', 'allow'],
      ['z/c', '2001:db8::1', 53, 'UDP', 'allow'],
    ],
  },

  // --- Ingress isolation --------------------------------------------------------------------------
  {
    // ingress isolation; policyTypes omitted = Ingress; empty podSelector = every pod of x, and of x only
    name: 'default deny ingress in x (podSelector {}, no rules)',
    objects: base(netpol('x', 'deny-ingress', { podSelector: {} })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  X   X   -   .   .
  y/b  X   X   .   -   .
  z/c  X   X   .   .   -
`,
    },
    probes: [
      ['198.51.100.1', 'x/a', 80, 'TCP', 'deny'],
      ['198.51.100.1', 'y/a', 80, 'TCP', 'allow'],
      // ingress isolation does not touch egress
      ['x/a', '198.51.100.1', 80, 'TCP', 'allow'],
    ],
  },
  {
    // ingress isolation of one pod; a podSelector peer matches pods of the policy's namespace only (y/b has app: b too)
    name: 'x/a admits app=b of its own namespace only',
    objects: base(netpol('x', 'a-from-b', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  X   .   -   .   .
  y/b  X   .   .   -   .
  z/c  X   .   .   .   -
`,
    },
  },

  // --- Egress isolation ---------------------------------------------------------------------------
  {
    // egress isolation: explicit policyTypes [Egress] with no rules = deny all egress (ingress untouched)
    name: 'default deny egress in y (policyTypes [Egress], no rules)',
    objects: base(netpol('y', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  X   X   -   X   X
  y/b  X   X   X   -   X
  z/c  .   .   .   .   -
`,
    },
    probes: [
      ['y/a', '8.8.8.8', 53, 'UDP', 'deny'],
      ['8.8.8.8', 'y/a', 80, 'TCP', 'allow'],
    ],
  },
  {
    // egress isolation with a rule: x/a may reach namespaces labelled team=back only
    name: 'x/a egress to team=back namespaces only',
    objects: base(netpol('x', 'a-egress', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'back' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   X
  x/b  .   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`,
    },
    probes: [
      ['x/a', '1.1.1.1', 80, 'TCP', 'deny'],
      ['x/a', 'y/b', 53, 'UDP', 'allow'],
    ],
  },
  {
    // policyTypes [Ingress, Egress] on one pod: ingress open to all (rule {}), egress denied
    name: 'x/b: ingress [{}] allows all, explicit Egress with no rules denies all',
    objects: base(netpol('x', 'b-locked-out', {
      podSelector: { matchLabels: { app: 'b' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{}],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  X   -   X   X   X
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`,
    },
    probes: [
      ['x/b', '10.0.0.1', 53, 'UDP', 'deny'],
      ['10.0.0.1', 'x/b', 8080, 'TCP', 'allow'],
    ],
  },

  // --- policyTypes defaulting ---------------------------------------------------------------------
  {
    // policyTypes omitted with a non-empty egress list = [Ingress, Egress]: z/c loses all ingress, egress only to team=front
    name: 'policyTypes omitted, egress rules present: both directions isolated',
    objects: base(netpol('z', 'egress-rules-only', {
      podSelector: {},
      egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'front' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   X
  x/b  .   -   .   .   X
  y/a  .   .   -   .   X
  y/b  .   .   .   -   X
  z/c  .   .   X   X   -
`,
    },
  },
  {
    // policyTypes omitted with `egress: []` = [Ingress] only: egress of z/c is not isolated
    name: 'policyTypes omitted, egress: [] does not isolate egress',
    objects: base(netpol('z', 'empty-egress', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'back' } } }] }],
      egress: [],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   X
  x/b  .   -   .   .   X
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`,
    },
    probes: [['z/c', '9.9.9.9', 80, 'TCP', 'allow']],
  },
  {
    // explicit policyTypes [Ingress]: the egress rules are ignored (no egress isolation); ingress [{}] admits everyone
    name: 'policyTypes [Ingress] with egress rules: egress not isolated',
    objects: base(netpol('y', 'ingress-only', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [{}],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
    })),
    matrices: { '80/TCP': ALL_ALLOWED },
    probes: [['y/a', '192.0.2.10', 443, 'TCP', 'allow']],
  },
  {
    // policyTypes: [] is defaulted as if omitted (API server defaulting): Ingress only, no rules = deny ingress
    name: 'policyTypes [] defaults to Ingress',
    objects: base(netpol('y', 'empty-types', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: [] })),
    probes: [
      ['x/a', 'y/b', 80, 'TCP', 'deny'],
      ['y/a', 'y/b', 80, 'TCP', 'deny'],
      ['y/b', 'x/a', 80, 'TCP', 'allow'],
      ['y/b', '8.8.4.4', 53, 'UDP', 'allow'],
      ['x/a', 'y/a', 80, 'TCP', 'allow'],
    ],
  },

  // --- Empty selectors, empty lists -------------------------------------------------------------
  {
    // podSelector {} as the policy's selector and as a peer: pods of y admit pods of y only
    name: 'allow within namespace y only (podSelector {} peer)',
    objects: base(netpol('y', 'same-namespace', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   X   X   .
  x/b  .   -   X   X   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   X   X   -
`,
    },
  },
  {
    // `from: []` = every source; ports narrows it to 80/TCP (81 blocked)
    name: 'from: [] admits everyone on the listed port',
    objects: base(netpol('x', 'from-empty', { podSelector: {}, ingress: [{ from: [], ports: [{ port: 80 }] }] })),
    matrices: {
      '80/TCP': ALL_ALLOWED,
      '81/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  X   X   -   .   .
  y/b  X   X   .   -   .
  z/c  X   X   .   .   -
`,
    },
    probes: [['203.0.113.9', 'x/b', 80, 'TCP', 'allow'], ['203.0.113.9', 'x/b', 81, 'TCP', 'deny']],
  },
  {
    // `from` missing = every source, pods and addresses alike; only the port decides
    name: 'from missing admits everyone on the listed port',
    objects: base(netpol('y', 'dns-only', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
    })),
    probes: [
      ['x/a', 'y/a', 53, 'UDP', 'allow'],
      ['y/b', 'y/a', 53, 'UDP', 'allow'],
      ['203.0.113.9', 'y/a', 53, 'UDP', 'allow'],
      ['x/a', 'y/a', 53, 'TCP', 'deny'],
      ['z/c', 'y/a', 80, 'TCP', 'deny'],
      ['z/c', 'y/b', 80, 'TCP', 'allow'],
    ],
  },
  {
    // `to: []` and `ports: []` = every destination, every port: egress isolated but all of it allowed
    name: 'to: [] and ports: [] allow all egress',
    objects: base(netpol('x', 'egress-all', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [], ports: [] }],
    })),
    matrices: { '80/TCP': ALL_ALLOWED, '53/UDP': ALL_ALLOWED },
    probes: [['x/a', '2001:db8::53', 53, 'UDP', 'allow'], ['x/b', '8.8.8.8', 3868, 'SCTP', 'allow']],
  },

  // --- namespaceSelector, and with podSelector -----------------------------------------------------
  {
    // namespaceSelector alone: every pod of team=back namespaces; not the policy's own namespace x
    name: 'namespaceSelector alone admits every pod of the matching namespaces',
    objects: base(netpol('x', 'from-back', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'back' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  X   X   .   .   -
`,
    },
  },
  {
    // namespaceSelector AND podSelector in one peer: only app=b pods of team=back namespaces (y/b)
    name: 'namespaceSelector and podSelector in one peer (AND)',
    objects: base(netpol('x', 'and-peer', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'back' } }, podSelector: { matchLabels: { app: 'b' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  X   -   .   .   .
  y/a  X   .   -   .   .
  y/b  .   .   .   -   .
  z/c  X   .   .   .   -
`,
    },
  },
  {
    // namespaceSelector and podSelector as two peers (OR): every pod of y, or app=b of x
    name: 'namespaceSelector and podSelector as two peers (OR)',
    objects: base(netpol('x', 'or-peers', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'back' } } }, { podSelector: { matchLabels: { app: 'b' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  X   .   .   .   -
`,
    },
  },
  {
    // namespaceSelector {} = all namespaces, with a podSelector: app=b pods anywhere
    name: 'namespaceSelector {} with podSelector: matching pods of every namespace',
    objects: base(netpol('y', 'b-anywhere', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   X   .   .
  x/b  .   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  .   .   X   .   -
`,
    },
  },
  {
    // namespaceSelector {} alone = every pod of every namespace, but no address outside the cluster
    name: 'namespaceSelector {} alone: every pod, no external address',
    objects: base(netpol('z', 'all-pods', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] })),
    matrices: { '80/TCP': ALL_ALLOWED },
    probes: [
      ['198.51.100.7', 'z/c', 80, 'TCP', 'deny'],
      ['198.51.100.7', 'x/a', 80, 'TCP', 'allow'],
    ],
  },
  {
    // the automatic kubernetes.io/metadata.name label: z has no label of its own
    name: 'namespace matched by kubernetes.io/metadata.name',
    objects: base(netpol('x', 'from-z', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  X   X   -   .   .
  y/b  X   X   .   -   .
  z/c  .   .   .   .   -
`,
    },
  },
  {
    // kubernetes.io/metadata.name with In, in an egress rule; and on a namespace with no Namespace object (q)
    name: 'kubernetes.io/metadata.name In [y, q], egress, q undeclared',
    objects: [...base(netpol('z', 'to-y-and-q', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y', 'q'] }] } }] }],
    })), pod('q', 'p', { app: 'p' })],
    probes: [
      ['z/c', 'x/a', 80, 'TCP', 'deny'],
      ['z/c', 'x/b', 80, 'TCP', 'deny'],
      ['z/c', 'y/a', 80, 'TCP', 'allow'],
      ['z/c', 'y/b', 53, 'UDP', 'allow'],
      ['z/c', 'q/p', 80, 'TCP', 'allow'],
      ['q/p', 'z/c', 80, 'TCP', 'allow'],
    ],
  },

  // --- matchExpressions ---------------------------------------------------------------------------
  {
    // matchExpressions In, as the policy's podSelector (app In [a, c] selects y/a in y) and as a peer (tier In [web])
    name: 'matchExpressions In',
    objects: base(
      netpol('y', 'in-selects', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'c'] }] } }),
      netpol('y', 'in-peer', {
        podSelector: { matchLabels: { app: 'b' } },
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] } }] }],
      }),
    ),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   X   .   .
  x/b  .   -   X   X   .
  y/a  .   .   -   X   .
  y/b  .   .   X   -   .
  z/c  .   .   X   X   -
`,
    },
  },
  {
    // matchExpressions NotIn matches pods without the key: tier NotIn [web] = x/b (none), y/a (db), z/c (none)
    name: 'matchExpressions NotIn (pods without the key match)',
    objects: base(netpol('y', 'not-web', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   X   X   .
  x/b  .   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   X   -   .
  z/c  .   .   .   .   -
`,
    },
  },
  {
    // NotIn on namespaces: team NotIn [back] = x (front) and z (no team label)
    name: 'namespaceSelector NotIn (namespaces without the key match)',
    objects: base(netpol('y', 'not-back', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['back'] }] } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  .   .   -   X   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`,
    },
  },
  {
    // matchExpressions Exists: tier Exists selects x/a, and admits pods with a tier (y/a, y/b; x/a is itself)
    name: 'matchExpressions Exists',
    objects: base(netpol('x', 'tiered', {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  X   -   .   .   .
  y/a  .   .   -   .   .
  y/b  .   .   .   -   .
  z/c  X   .   .   .   -
`,
    },
  },
  {
    // matchExpressions DoesNotExist: selects x/b (no tier); admits namespaces without a team label (z)
    name: 'matchExpressions DoesNotExist',
    objects: base(netpol('x', 'untiered', {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } }] }],
    })),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  .   -   .   .   .
  y/a  .   X   -   .   .
  y/b  .   X   .   -   .
  z/c  .   .   .   .   -
`,
    },
  },

  {
    // Exists and DoesNotExist in egress: y's tiered pods may only reach untiered pods (x/b, z/c); namespace team Exists admits x and y into x/b
    name: 'matchExpressions Exists / DoesNotExist (egress, namespaces)',
    objects: base(
      netpol('y', 'tiered-out', {
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }],
      }),
      netpol('x', 'b-from-teams', {
        podSelector: { matchLabels: { app: 'b' } },
        ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }] }],
      }),
    ),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  X   .   -   X   .
  y/b  X   .   X   -   .
  z/c  .   X   .   .   -
`,
    },
    probes: [['y/a', '8.8.8.8', 80, 'TCP', 'deny'], ['203.0.113.1', 'x/b', 80, 'TCP', 'deny']],
  },

  // --- ipBlock ------------------------------------------------------------------------------------
  {
    // ipBlock cidr with except, ingress; addresses at the block's edges; a pod is never matched by an ipBlock
    name: 'ipBlock 10.0.0.0/16 except 10.0.5.0/24 (ingress)',
    objects: base(netpol('x', 'from-block', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.5.0/24'] } }] }],
    })),
    probes: [
      ['10.0.1.1', 'x/a', 80, 'TCP', 'allow'],
      ['10.0.0.0', 'x/a', 80, 'TCP', 'allow'],
      ['10.0.255.255', 'x/a', 80, 'TCP', 'allow'],
      ['10.0.4.255', 'x/a', 80, 'TCP', 'allow'],
      ['10.0.5.0', 'x/a', 80, 'TCP', 'deny'],
      ['10.0.5.255', 'x/a', 80, 'TCP', 'deny'],
      ['10.0.6.0', 'x/a', 80, 'TCP', 'allow'],
      ['10.1.0.1', 'x/a', 80, 'TCP', 'deny'],
      ['x/b', 'x/a', 80, 'TCP', 'deny'],
      ['y/a', 'x/a', 80, 'TCP', 'deny'],
      ['10.9.9.9', 'x/b', 80, 'TCP', 'allow'],
    ],
  },
  {
    // ipBlock egress 0.0.0.0/0 except link-local: addresses yes, pods no, IPv6 addresses no (IPv4 block)
    name: 'ipBlock 0.0.0.0/0 except 169.254.0.0/16 (egress)',
    objects: base(netpol('y', 'to-internet', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] }],
    })),
    probes: [
      ['y/a', '8.8.8.8', 443, 'TCP', 'allow'],
      ['y/b', '192.168.1.1', 53, 'UDP', 'allow'],
      ['y/a', '169.254.169.254', 80, 'TCP', 'deny'],
      ['y/a', 'x/a', 80, 'TCP', 'deny'],
      ['y/a', 'y/b', 80, 'TCP', 'deny'],
      ['y/b', '2001:db8::1', 443, 'TCP', 'deny'],
      ['x/a', 'y/a', 80, 'TCP', 'allow'],
    ],
  },
  {
    // IPv6 cidr with an IPv6 except; an IPv4 address is never in an IPv6 block
    name: 'ipBlock 2001:db8::/32 except 2001:db8:dead::/48 (ingress)',
    objects: base(netpol('z', 'from-v6', {
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:dead::/48'] } }] }],
    })),
    probes: [
      ['2001:db8:1::5', 'z/c', 80, 'TCP', 'allow'],
      ['2001:db8:ffff:ffff::1', 'z/c', 80, 'TCP', 'allow'],
      ['2001:db8:dead::1', 'z/c', 80, 'TCP', 'deny'],
      ['2001:db8:dead:beef::1', 'z/c', 80, 'TCP', 'deny'],
      ['2001:db9::1', 'z/c', 80, 'TCP', 'deny'],
      ['192.0.2.1', 'z/c', 80, 'TCP', 'deny'],
      ['x/a', 'z/c', 80, 'TCP', 'deny'],
    ],
  },
  {
    // IPv4 address vs IPv6 block (and back): egress to ::/0 only admits IPv6 addresses
    name: 'ipBlock ::/0 (egress): IPv6 addresses only',
    objects: base(netpol('x', 'to-v6', {
      podSelector: { matchLabels: { app: 'b' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '::/0' } }] }],
    })),
    probes: [
      ['x/b', '2606:4700::1111', 443, 'TCP', 'allow'],
      ['x/b', '::1', 80, 'TCP', 'allow'],
      ['x/b', '1.1.1.1', 443, 'TCP', 'deny'],
      ['x/b', '0.0.0.0', 443, 'TCP', 'deny'],
      ['x/b', 'y/b', 80, 'TCP', 'deny'],
      ['x/a', '1.1.1.1', 443, 'TCP', 'allow'],
    ],
  },

  // --- Ports ----------------------------------------------------------------------------------------
  {
    // a port number without protocol = TCP
    name: 'port 5432 without protocol is TCP',
    objects: base(netpol('y', 'pg', {
      podSelector: { matchLabels: { app: 'a' } },
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 5432 }] }],
    })),
    probes: [
      ['x/a', 'y/a', 5432, 'TCP', 'allow'],
      ['y/b', 'y/a', 5432, 'TCP', 'allow'],
      ['x/a', 'y/a', 5432, 'UDP', 'deny'],
      ['x/a', 'y/a', 5432, 'SCTP', 'deny'],
      ['x/a', 'y/a', 5433, 'TCP', 'deny'],
      ['x/a', 'y/a', 80, 'TCP', 'deny'],
      ['x/a', 'y/b', 80, 'TCP', 'allow'],
    ],
  },
  {
    // UDP and SCTP ports; the protocol must match
    name: 'UDP 53 and SCTP 3868',
    objects: base(netpol('z', 'udp-sctp', {
      podSelector: {},
      ingress: [{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'SCTP', port: 3868 }] }],
    })),
    probes: [
      ['x/a', 'z/c', 53, 'UDP', 'allow'],
      ['x/a', 'z/c', 53, 'TCP', 'deny'],
      ['x/a', 'z/c', 53, 'SCTP', 'deny'],
      ['y/a', 'z/c', 3868, 'SCTP', 'allow'],
      ['y/a', 'z/c', 3868, 'TCP', 'deny'],
      ['y/a', 'z/c', 3868, 'UDP', 'deny'],
      ['y/a', 'z/c', 54, 'UDP', 'deny'],
    ],
  },
  {
    // a port entry with a protocol and no number = every port of that protocol (ingress: UDP)
    name: 'protocol UDP without port = every UDP port',
    objects: base(netpol('x', 'all-udp', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] })),
    matrices: {
      '53/UDP': ALL_ALLOWED,
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  X   X   -   .   .
  y/b  X   X   .   -   .
  z/c  X   X   .   .   -
`,
    },
    probes: [
      ['y/a', 'x/a', 1, 'UDP', 'allow'],
      ['y/a', 'x/a', 65535, 'UDP', 'allow'],
      ['y/a', 'x/a', 5000, 'SCTP', 'deny'],
    ],
  },
  {
    // a port entry with neither number nor protocol = every TCP port (egress)
    name: 'port entry {} = every TCP port (egress)',
    objects: base(netpol('y', 'tcp-out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{}] }] })),
    probes: [
      ['y/a', 'x/a', 80, 'TCP', 'allow'],
      ['y/a', '8.8.8.8', 65000, 'TCP', 'allow'],
      ['y/a', 'x/a', 53, 'UDP', 'deny'],
      ['y/b', '8.8.8.8', 53, 'UDP', 'deny'],
      ['y/b', 'z/c', 3868, 'SCTP', 'deny'],
      ['z/c', 'y/b', 53, 'UDP', 'allow'],
    ],
  },
  {
    // endPort: a range, both ends included, one past either end excluded, TCP only
    name: 'endPort 32000-32768 (ingress)',
    objects: base(netpol('x', 'range', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [{ ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
    })),
    probes: [
      ['y/a', 'x/b', 31999, 'TCP', 'deny'],
      ['y/a', 'x/b', 32000, 'TCP', 'allow'],
      ['y/a', 'x/b', 32500, 'TCP', 'allow'],
      ['y/a', 'x/b', 32768, 'TCP', 'allow'],
      ['y/a', 'x/b', 32769, 'TCP', 'deny'],
      ['y/a', 'x/b', 32000, 'UDP', 'deny'],
      ['y/a', 'x/a', 31999, 'TCP', 'allow'],
    ],
  },
  {
    // endPort in an egress rule, protocol defaulted to TCP
    name: 'endPort 8000-8010 (egress, protocol omitted)',
    objects: base(netpol('z', 'range-out', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 8000, endPort: 8010 }] }],
    })),
    probes: [
      ['z/c', 'x/a', 7999, 'TCP', 'deny'],
      ['z/c', 'x/a', 8000, 'TCP', 'allow'],
      ['z/c', 'y/b', 8010, 'TCP', 'allow'],
      ['z/c', 'y/b', 8011, 'TCP', 'deny'],
      ['z/c', 'y/a', 8005, 'UDP', 'deny'],
      ['z/c', '8.8.8.8', 8005, 'TCP', 'deny'],
    ],
  },
  {
    // named ports, ingress: `http` resolves against each destination's own container port of that name
    name: 'named port http resolves per destination (ingress)',
    objects: [
      namespace('a'), namespace('b'),
      pod('a', 'web', { app: 'web' }, [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }]),
      pod('a', 'cli', { app: 'cli' }, []),
      pod('b', 'api', { app: 'api' }, [{ name: 'http', containerPort: 3000 }]),
      pod('b', 'dns', { app: 'dns' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }]),
      netpol('a', 'web-http', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] }),
      netpol('b', 'all-http', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] }),
    ],
    probes: [
      ['a/cli', 'a/web', 8080, 'TCP', 'allow'],
      ['a/cli', 'a/web', 9090, 'TCP', 'deny'],
      ['a/cli', 'a/web', 3000, 'TCP', 'deny'],
      ['a/cli', 'a/web', 8080, 'UDP', 'deny'],
      ['a/cli', 'b/api', 3000, 'TCP', 'allow'],
      ['a/cli', 'b/api', 8080, 'TCP', 'deny'],
      ['a/web', 'b/api', 3000, 'TCP', 'allow'],
      ['198.51.100.3', 'b/api', 3000, 'TCP', 'allow'],
      // b/dns has no port named http: selected, no rule matches, nothing gets in
      ['a/cli', 'b/dns', 53, 'UDP', 'deny'],
      ['a/cli', 'b/dns', 53, 'TCP', 'deny'],
    ],
  },
  {
    // named ports, egress: resolved against the destination pod; towards an address a name matches nothing
    name: 'named ports http and UDP dns resolve per destination (egress)',
    objects: [
      namespace('a'), namespace('b'),
      pod('a', 'web', { app: 'web' }, [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }]),
      pod('a', 'cli', { app: 'cli' }, []),
      pod('b', 'api', { app: 'api' }, [{ name: 'http', containerPort: 3000 }]),
      pod('b', 'dns', { app: 'dns' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }]),
      netpol('a', 'cli-out', {
        podSelector: { matchLabels: { app: 'cli' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }, { ports: [{ protocol: 'UDP', port: 'dns' }] }],
      }),
    ],
    probes: [
      ['a/cli', 'a/web', 8080, 'TCP', 'allow'],
      ['a/cli', 'a/web', 9090, 'TCP', 'deny'],
      ['a/cli', 'b/api', 3000, 'TCP', 'allow'],
      ['a/cli', 'b/api', 8080, 'TCP', 'deny'],
      ['a/cli', 'b/dns', 53, 'UDP', 'allow'],
      // the TCP port on 53 is named dns-tcp, not dns
      ['a/cli', 'b/dns', 53, 'TCP', 'deny'],
      ['a/cli', '8.8.8.8', 53, 'UDP', 'deny'],
      ['a/cli', '8.8.8.8', 8080, 'TCP', 'deny'],
      ['a/web', 'b/api', 9999, 'TCP', 'allow'],
    ],
  },
  {
    // a named port the destination does not have (for that protocol): `dns` without protocol means TCP, b/dns's dns is UDP
    name: 'named port absent on the destination (protocol mismatch)',
    objects: [
      namespace('b'),
      pod('b', 'dns', { app: 'dns' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }]),
      pod('b', 'client', { app: 'client' }, [{ name: 'dns', containerPort: 5353, protocol: 'TCP' }]),
      netpol('b', 'dns-tcp', { podSelector: {}, ingress: [{ ports: [{ port: 'dns' }] }] }),
    ],
    probes: [
      ['b/client', 'b/dns', 53, 'UDP', 'deny'],
      ['b/client', 'b/dns', 53, 'TCP', 'deny'],
      // b/client does have a TCP port named dns, on 5353 only
      ['b/dns', 'b/client', 5353, 'TCP', 'allow'],
      ['b/dns', 'b/client', 53, 'TCP', 'deny'],
    ],
  },

  // --- Several policies, both sides ----------------------------------------------------------------
  {
    // policies add up: a deny-all and an allow selecting x/a; the deny-all does not block what the allow admits
    name: 'union: deny-all plus an allow for x/a',
    objects: base(
      netpol('x', 'deny-all', { podSelector: {} }),
      netpol('x', 'a-from-back', {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'back' } } }] }],
      }),
    ),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   .   .
  x/b  X   -   .   .   .
  y/a  .   X   -   .   .
  y/b  .   X   .   -   .
  z/c  X   X   .   .   -
`,
    },
  },
  {
    // policies add up, per port: y/a gets 80 from anyone (one policy) and 81 from x (another, selecting all of y)
    name: 'union: two policies on one pod, different ports and peers',
    objects: base(
      netpol('y', 'a-80', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 80 }] }] }),
      netpol('y', 'all-81-from-x', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }], ports: [{ port: 81 }] }],
      }),
    ),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   X   .
  x/b  .   -   .   X   .
  y/a  .   .   -   X   .
  y/b  .   .   .   -   .
  z/c  .   .   .   X   -
`,
      '81/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   .   .   .   .
  x/b  .   -   .   .   .
  y/a  .   .   -   X   .
  y/b  .   .   X   -   .
  z/c  .   .   X   X   -
`,
    },
    probes: [['x/a', 'y/a', 82, 'TCP', 'deny']],
  },
  {
    // both sides: x/a's egress (to y only) and y/b's ingress (from z only) must both allow
    name: 'egress of the source and ingress of the destination',
    objects: base(
      netpol('x', 'a-out', {
        podSelector: { matchLabels: { app: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'back' } } }] }],
      }),
      netpol('y', 'b-in', {
        podSelector: { matchLabels: { app: 'b' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }] }],
      }),
    ),
    matrices: {
      '80/TCP': `
      x/a x/b y/a y/b z/c
  x/a  -   X   .   X   X
  x/b  .   -   .   X   .
  y/a  .   .   -   X   .
  y/b  .   .   .   -   .
  z/c  .   .   .   .   -
`,
    },
  },
  {
    // both sides, by port: x/a may send to tier=db on 80 and 81; y/a admits x/a on 81 and 82: only 81 flows
    name: 'egress ports and ingress ports intersect',
    objects: base(
      netpol('x', 'a-out', {
        podSelector: { matchLabels: { app: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: 'db' } } }], ports: [{ port: 80 }, { port: 81 }] }],
      }),
      netpol('y', 'db-in', {
        podSelector: { matchLabels: { tier: 'db' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'front' } }, podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 81 }, { port: 82 }] }],
      }),
    ),
    probes: [
      ['x/a', 'y/a', 80, 'TCP', 'deny'],
      ['x/a', 'y/a', 81, 'TCP', 'allow'],
      ['x/a', 'y/a', 82, 'TCP', 'deny'],
      ['x/b', 'y/a', 81, 'TCP', 'deny'],
      ['y/b', 'y/a', 81, 'TCP', 'deny'],
      ['x/a', 'y/b', 80, 'TCP', 'deny'],
      ['x/b', 'y/b', 80, 'TCP', 'allow'],
    ],
  },
  {
    // a policy isolates pods of its own namespace only: z's policy selects app=a, z has none; x/a, y/a untouched
    name: 'a policy in another namespace does not isolate',
    objects: base(
      netpol('z', 'deny-a', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Ingress', 'Egress'] }),
      netpol('y', 'deny-c', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Ingress', 'Egress'] }),
    ),
    matrices: { '80/TCP': ALL_ALLOWED },
  },
  {
    // a policy without metadata.namespace is in `default`: it isolates nothing of x, y, z
    name: 'a policy without namespace (default) does not isolate x, y, z',
    objects: base(netpol(undefined, 'deny-everything', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })),
    matrices: { '80/TCP': ALL_ALLOWED },
    probes: [['x/a', '8.8.8.8', 443, 'TCP', 'allow']],
  },

  // --- Loader ---------------------------------------------------------------------------------------
  {
    // pods from workloads: a Deployment's pod template labels (not its own metadata labels), a StatefulSet, a CronJob
    name: 'loader: pod template labels of Deployment, StatefulSet and CronJob',
    objects: [
      namespace('x'),
      deployment('x', 'web', { app: 'web' }, [{ name: 'http', containerPort: 8080 }]),
      // the Deployment object is labelled app=web, its pods are app=cli
      deployment('x', 'cli', { app: 'cli' }, [], { app: 'web' }),
      {
        apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { namespace: 'x', name: 'db' },
        spec: { selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: containers([5432]) } } },
      },
      {
        apiVersion: 'batch/v1', kind: 'CronJob', metadata: { namespace: 'x', name: 'report', labels: { app: 'cli' } },
        spec: { schedule: '@daily', jobTemplate: { spec: { template: { metadata: { labels: { app: 'report' } }, spec: { containers: containers([]) } } } } },
      },
      netpol('x', 'web-from-cli', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'cli' } } }], ports: [{ port: 'http' }] }],
      }),
    ],
    pods: ['x/web', 'x/cli', 'x/db', 'x/report'],
    probes: [
      ['x/cli', 'x/web', 8080, 'TCP', 'allow'],
      ['x/cli', 'x/web', 9090, 'TCP', 'deny'],
      ['x/db', 'x/web', 8080, 'TCP', 'deny'],
      ['x/report', 'x/web', 8080, 'TCP', 'deny'],
      ['x/db', 'x/cli', 80, 'TCP', 'allow'],
      ['x/web', 'x/db', 5432, 'TCP', 'allow'],
    ],
  },
  {
    // pods from a Service's selector when no workload matches (ports from targetPort); a Service matching a workload adds none
    name: 'loader: a Service without workload stands for its pods',
    objects: [
      namespace('y'),
      deployment('y', 'worker', { app: 'worker' }, [9000]),
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'y', name: 'worker' }, spec: { selector: { app: 'worker' }, ports: [{ port: 80, targetPort: 9000 }] } },
      {
        apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'y', name: 'api' },
        spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }, { port: 53, protocol: 'UDP' }] },
      },
      netpol('y', 'api-from-worker', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'worker' } } }], ports: [{ port: 8080 }] }],
      }),
    ],
    pods: ['y/worker', 'y/api'],
    paths: {
      expected: [
        'y/api -> y/worker 9000/TCP',
        'y/worker -> y/api 8080/TCP',
      ],
    },
  },
  {
    // `List` kinds are flattened (a v1 List and a NetworkPolicyList)
    name: 'loader: List and NetworkPolicyList items',
    objects: [
      {
        apiVersion: 'v1', kind: 'List',
        items: [namespace('q', { team: 'q' }), pod('q', 'a', { app: 'a' }), pod('q', 'b', { app: 'b' }), netpol('q', 'deny-b', { podSelector: { matchLabels: { app: 'b' } } })],
      },
      {
        apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList',
        items: [netpol('q', 'a-from-b', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })],
      },
    ],
    pods: ['q/a', 'q/b'],
    paths: { expected: ['q/b -> q/a 80/TCP'] },
  },
  {
    // nested List; a Service stands for pods when no workload of ITS namespace matches (t/api's Deployment does not count for s); a hostNetwork Deployment is left out
    name: 'loader: nested List, Service per namespace, hostNetwork Deployment',
    objects: [{
      apiVersion: 'v1', kind: 'List',
      items: [
        namespace('s'), namespace('t'),
        { apiVersion: 'v1', kind: 'List', items: [deployment('t', 'api', { app: 'api' }, [8080])] },
        { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 't', name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 's', name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } },
        {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 's', name: 'host' },
          spec: { selector: { matchLabels: { app: 'host' } }, template: { metadata: { labels: { app: 'host' } }, spec: { hostNetwork: true, containers: containers([9100]) } } },
        },
        netpol('s', 'api-from-t', {
          podSelector: { matchLabels: { app: 'api' } },
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 't' } } }], ports: [{ port: 8080 }] }],
        }),
      ],
    }],
    pods: ['t/api', 's/api'],
    paths: { expected: ['s/api -> t/api 8080/TCP', 't/api -> s/api 8080/TCP'] },
  },
  {
    // hostNetwork pods are outside NetworkPolicy: the loader leaves them out (DaemonSet and Pod alike)
    name: 'loader: hostNetwork pods ignored',
    objects: [
      namespace('a'),
      deployment('a', 'web', { app: 'web' }, [80]),
      {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { namespace: 'a', name: 'node-agent' },
        spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { hostNetwork: true, containers: containers([9100]) } } },
      },
      { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'a', name: 'probe', labels: { app: 'probe' } }, spec: { hostNetwork: true, containers: containers([8081]) } },
      pod('a', 'cli', { app: 'cli' }, []),
      netpol('a', 'web-from-agent', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'agent' } } }, { podSelector: { matchLabels: { app: 'cli' } } }] }],
      }),
    ],
    pods: ['a/web', 'a/cli'],
    paths: { expected: ['a/cli -> a/web 80/TCP'] },
  },

  // --- paths() over a whole small cluster -----------------------------------------------------------
  {
    // paths(): pods and an address as sources, explicit targets; ipBlock admits the address only; egress narrows b/job
    name: 'paths: pods and an address, ipBlock, egress to one pod',
    objects: [
      namespace('a', { team: 'a' }), namespace('b'),
      pod('a', 'web', { app: 'web' }, [80]),
      pod('a', 'db', { app: 'db' }, [5432]),
      pod('b', 'job', { app: 'job' }, []),
      netpol('a', 'db-from-web', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }],
      }),
      netpol('a', 'web-in', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ namespaceSelector: {} }] },
          { from: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 443 }] },
        ],
      }),
      netpol('b', 'job-out', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } }, podSelector: { matchLabels: { app: 'db' } } }] }],
      }),
    ],
    paths: {
      sources: ['a/web', 'a/db', 'b/job', '203.0.113.10', '192.0.2.1'],
      targets: [['a/web', ['80/TCP', '443/TCP']], ['a/db', ['5432/TCP', '5432/UDP']]],
      expected: [
        '203.0.113.10 -> a/web 443/TCP',
        'a/db -> a/web 80/TCP',
        'a/db -> a/web 443/TCP',
        'a/web -> a/db 5432/TCP',
      ],
    },
  },
  {
    // paths(): default sources and targets (every pod on its container ports); default deny in x plus DNS inside x; a podSelector egress peer stays in x
    name: 'paths: default deny in x with one allowed port',
    objects: [
      namespace('x', { team: 'front' }), namespace('y', { team: 'back' }),
      pod('x', 'a', { app: 'a' }, [80, { name: 'dns', containerPort: 53, protocol: 'UDP' }]),
      pod('x', 'b', { app: 'b' }, [8080]),
      pod('y', 'c', { app: 'c' }, [80]),
      // app=a like x/a, but in y: x's egress peer `podSelector: {app: a}` does not reach it
      pod('y', 'd', { app: 'a' }, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }]),
      netpol('x', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      netpol('x', 'dns', {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'UDP', port: 'dns' }] }],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ protocol: 'UDP', port: 53 }] }],
      }),
    ],
    paths: {
      expected: [
        'x/b -> x/a 53/UDP',
        'y/c -> y/d 53/UDP',
        'y/d -> y/c 80/TCP',
      ],
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The runner.
// ---------------------------------------------------------------------------------------------

function podOf(cluster: Cluster, id: string): Pod {
  const pod = cluster.pods.find(p => `${p.namespace}/${p.name}` === id);
  if (!pod) throw new Error(`no pod ${id} in the cluster (pods: ${cluster.pods.map(p => `${p.namespace}/${p.name}`).join(', ')})`);
  return pod;
}

const endpointOf = (cluster: Cluster, id: string): Endpoint => (id.includes('/') ? podOf(cluster, id) : { ip: id });

const portOf = (spec: string): { port: number; protocol: string } => {
  const [port, protocol] = spec.split('/');
  return { port: Number(port), protocol };
};

/** A matrix's ids and cells, whitespace-insensitive. */
function parseMatrix(text: string): { columns: string[]; rows: Array<{ from: string; cells: string[] }> } {
  const lines = text.split('\n').map(l => l.trim()).filter(Boolean);
  const columns = lines[0].split(/\s+/);
  const rows = lines.slice(1).map(l => {
    const [from, ...cells] = l.split(/\s+/);
    if (cells.length !== columns.length) throw new Error(`matrix row ${from}: ${cells.length} cells for ${columns.length} columns`);
    return { from, cells };
  });
  return { columns, rows };
}

const renderMatrix = (columns: string[], rows: Array<{ from: string; cells: string[] }>): string[] =>
  [['', ...columns].map(c => c.padEnd(5)).join(''), ...rows.map(r => [r.from, ...r.cells].map(c => c.padEnd(5)).join(''))];

test('the table is large enough', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(45);
  expect(new Set(CASES.map(c => c.name)).size).toBe(CASES.length);
});

describe('NetworkPolicy truth table', () => {
  test.each(CASES)('$name', c => {
    const cluster = clusterOf(c.objects.map((object, i) => ({ file: `case-${i}.yaml`, object })));

    if (c.pods) expect(cluster.pods.map(p => `${p.namespace}/${p.name}`).sort()).toEqual([...c.pods].sort());

    for (const [spec, text] of Object.entries(c.matrices ?? {})) {
      const { port, protocol } = portOf(spec);
      const { columns, rows } = parseMatrix(text);
      const actual = rows.map(r => ({
        from: r.from,
        cells: columns.map(to => (to === r.from ? '-' : cluster.allowed(endpointOf(cluster, r.from), endpointOf(cluster, to), port, protocol) ? '.' : 'X')),
      }));
      expect({ [spec]: renderMatrix(columns, actual) }).toEqual({ [spec]: renderMatrix(columns, rows) });
    }

    if (c.probes) {
      const actual = c.probes.map(([from, to, port, protocol]) =>
        `${from} -> ${to} ${port}/${protocol}: ${cluster.allowed(endpointOf(cluster, from), endpointOf(cluster, to), port, protocol) ? 'allow' : 'deny'}`);
      const expected = c.probes.map(([from, to, port, protocol, verdict]) => `${from} -> ${to} ${port}/${protocol}: ${verdict}`);
      expect(actual).toEqual(expected);
    }

    if (c.paths) {
      const sources = c.paths.sources?.map(id => endpointOf(cluster, id));
      const targets = c.paths.targets?.map(([to, ports]) => ({ endpoint: endpointOf(cluster, to), ports: ports.map(portOf) }));
      const paths = cluster.paths(sources, targets).map(p => `${p.from} -> ${p.to} ${p.port}/${p.protocol}`);
      expect(paths).toEqual(c.paths.expected);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// verify against a registry, exactly (issue 34): the policies' allowed connections as sets, not
// samples. The registry below is generated clean; each case adds what a hostile review added, and
// lists by hand every undeclared region verify must report (`from -> to ports`, the message up to
// " is allowed"), with the witness the message gives where it names one.
//
//   namespace shop-dev: web (20000/TCP) <- api (20001/TCP); api -> db 10.0.0.0/24 and
//   10.255.255.0/24 on 5432 (main) and 5440 (tail); every pod -> the cluster DNS.
//
// The address space is cut at the CIDRs every policy and the registry name: with the registry's
// two blocks alone, 0.0.0.0-9.255.255.255 (0.0.0.1), 10.0.0.0/24 (10.0.0.1),
// 10.0.1.0-10.255.254.255 (10.0.1.1), 10.255.255.0/24 (10.255.255.1), 11.0.0.0-255.255.255.255
// (the internet stand-in 203.0.113.7) and all of IPv6 (2001:db8::7).
// ---------------------------------------------------------------------------------------------

const EXACT_SHOP = (() => {
  const r = checkRegistry({
    name: 'shop', environments: { dev: { range: [20000, 20099] } },
    services: {
      web: { ports: { http: { offset: 0 } } },
      api: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'web', port: 'http' }, { to: 'db', port: 'main' }, { to: 'db', port: 'tail' }] },
    },
    externals: { db: { kind: 'postgres', cidrs: ['10.0.0.0/24', '10.255.255.0/24'], ports: { main: { port: 5432 }, tail: { port: 5440 } } } },
  } as RegistrySpec);
  if (!r.ok) throw new Error(JSON.stringify(r.findings));
  return r;
})();

const API = { matchLabels: { 'app.kubernetes.io/name': 'api' } };
const WEB = { matchLabels: { 'app.kubernetes.io/name': 'web' } };

interface VerifyCase {
  readonly name: string;
  /** Objects added to the generated manifests. */
  readonly add: Obj[];
  /** Every error, as `rule: from -> to ports` (traffic findings cut at " is allowed"/" is declared"), or the message of other rules. */
  readonly errors: string[];
  /** Witnesses the messages must give (substrings of the findings' messages). */
  readonly witnesses?: string[];
  /** What `diff --traffic` against the generated manifests alone says opens (`from -> to ports`). */
  readonly opens?: string[];
}

const VERIFY_CASES: VerifyCase[] = [
  {
    name: 'egress to 10.0.0.0/8:5432 where 10.0.0.0/24 and 10.255.255.0/24 are declared: the addresses between them are open',
    add: [netpol('shop-dev', 'api-to-10', { podSelector: API, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 5432 }] }] })],
    // (10.0.0.0/8 adds no cut inside: its ends are 10.0.0.0 and 11.0.0.0, cuts already.)
    errors: ['traffic-undeclared: shop-dev/api -> 10.0.1.1 5432/TCP'],
    witnesses: ['10.0.1.1 stands for every address from 10.0.1.0 to 10.255.254.255', 'egress of shop-dev/api is allowed by api-to-10 (extra.yaml, egress rule 1)'],
  },
  {
    name: 'port 5432 endPort 5440 where 5432 and 5440 are declared: 5433-5439 are open',
    add: [netpol('shop-dev', 'api-to-db-range', { podSelector: API, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ port: 5432, endPort: 5440 }] }] })],
    errors: ['traffic-undeclared: shop-dev/api -> 10.0.0.1 5433-5439/TCP'],
  },
  {
    name: 'ingress on every port from any namespace: every port of every protocol from every pod outside the registry',
    add: [netpol('shop-dev', 'web-open', { podSelector: WEB, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    // shop-dev's own pods are behind the default deny for egress; pods elsewhere, the DNS stand-in and
    // any other pod of kube-system (a namespace the DNS rule names) are not.
    errors: [
      'traffic-undeclared: (another-namespace)/(unlisted-pod) -> shop-dev/web every SCTP port (1-65535)',
      'traffic-undeclared: (another-namespace)/(unlisted-pod) -> shop-dev/web every TCP port (1-65535)',
      'traffic-undeclared: (another-namespace)/(unlisted-pod) -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: kube-system/(unlisted-pod) -> shop-dev/web every SCTP port (1-65535)',
      'traffic-undeclared: kube-system/(unlisted-pod) -> shop-dev/web every TCP port (1-65535)',
      'traffic-undeclared: kube-system/(unlisted-pod) -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: kube-system/kube-dns -> shop-dev/web every SCTP port (1-65535)',
      'traffic-undeclared: kube-system/kube-dns -> shop-dev/web every TCP port (1-65535)',
      'traffic-undeclared: kube-system/kube-dns -> shop-dev/web every UDP port (1-65535)',
    ],
    opens: [
      '(another-namespace)/(unlisted-pod) -> shop-dev/web 1-65535/SCTP', '(another-namespace)/(unlisted-pod) -> shop-dev/web 1-65535/TCP', '(another-namespace)/(unlisted-pod) -> shop-dev/web 1-65535/UDP',
      'kube-system/(unlisted-pod) -> shop-dev/web 1-65535/SCTP', 'kube-system/(unlisted-pod) -> shop-dev/web 1-65535/TCP', 'kube-system/(unlisted-pod) -> shop-dev/web 1-65535/UDP',
      'kube-system/kube-dns -> shop-dev/web 1-65535/SCTP', 'kube-system/kube-dns -> shop-dev/web 1-65535/TCP', 'kube-system/kube-dns -> shop-dev/web 1-65535/UDP',
    ],
  },
  {
    name: 'ingress on every UDP port from anyone: from every address interval and every pod outside the registry',
    add: [netpol('shop-dev', 'web-udp', { podSelector: WEB, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    errors: [
      'traffic-undeclared: (another-namespace)/(unlisted-pod) -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 0.0.0.1 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 10.0.0.1 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 10.0.1.1 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 10.255.255.1 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 2001:db8::7 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: 203.0.113.7 -> shop-dev/web every UDP port (1-65535)',
      'traffic-undeclared: kube-system/kube-dns -> shop-dev/web every UDP port (1-65535)',
    ],
    witnesses: ['0.0.0.1 stands for every address from 0.0.0.0 to 9.255.255.255', '203.0.113.7 stands for every address from 11.0.0.0 to 255.255.255.255', '2001:db8::7 stands for every address from :: to ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  },
  {
    name: 'ingress on an SCTP port nobody declared, from a block: exactly that port from exactly that block',
    add: [netpol('shop-dev', 'web-sctp', { podSelector: WEB, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'SCTP', port: 9999 }] }] })],
    errors: ['traffic-undeclared: 203.0.113.7 -> shop-dev/web 9999/SCTP'],
    witnesses: ['203.0.113.7 stands for every address from 203.0.113.0 to 203.0.113.255'],
    opens: ['203.0.113.7 -> shop-dev/web 9999/SCTP'],
  },
  {
    name: 'ingress from the namespace named attacker: a stand-in namespace of that name',
    add: [netpol('shop-dev', 'web-from-attacker', { podSelector: WEB, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'attacker' } } }], ports: [{ port: 20000 }] }] })],
    errors: ['traffic-undeclared: attacker/(unlisted-pod) -> shop-dev/web 20000/TCP'],
    opens: ['attacker/(unlisted-pod) -> shop-dev/web 20000/TCP'],
  },
  {
    name: 'ingress from namespaces with a team label (Exists), pods labelled role=x: a stand-in namespace with the label, a pod with the labels',
    add: [netpol('shop-dev', 'web-from-teams', {
      podSelector: WEB, policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, podSelector: { matchLabels: { role: 'x' } } }], ports: [{ port: 20000 }] }],
    })],
    errors: ['traffic-undeclared: (namespace with team=any)/(pod with role=x) -> shop-dev/web 20000/TCP'],
    witnesses: ['(namespace with team=any)/(pod with role=x) stands for any pod labelled role=x in a namespace labelled team=any that the folder does not list'],
  },
  {
    name: 'a named port on a pod the folder does not list may be any port: egress to any pod of any namespace on "http"',
    add: [netpol('shop-dev', 'api-to-http', { podSelector: API, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }] })],
    // web's Service names its port http (20000): declared; shop-dev's unlisted pods are behind its
    // default deny, the DNS names its ports dns and dns-tcp. Another pod's "http" may be any TCP port.
    errors: [
      'traffic-undeclared: shop-dev/api -> (another-namespace)/(unlisted-pod) every TCP port (1-65535)',
      'traffic-undeclared: shop-dev/api -> kube-system/(unlisted-pod) every TCP port (1-65535)',
    ],
  },
];

describe('verify: exact, against a registry (issue 34)', () => {
  const generatedShop = generatedObjects(EXACT_SHOP);
  const sourced = (objects: Obj[], file: string) => objects.map(object => ({ file, object }));
  const short = (f: TrafficFinding) => (f.rule.startsWith('traffic-') ? `${f.rule}: ${f.message.split(/ is (allowed|declared)/)[0]}` : `${f.rule}: ${f.message}`);

  test('the generated manifests alone are clean', () => {
    expect(verifyCluster(clusterOf(sourced(generatedShop, 'gen.yaml')), [EXACT_SHOP]).findings.filter(f => f.severity === 'error')).toEqual([]);
  });

  test.each(VERIFY_CASES)('$name', c => {
    const before = clusterOf(sourced(generatedShop, 'gen.yaml'));
    const after = clusterOf([...sourced(generatedShop, 'gen.yaml'), ...sourced(c.add, 'extra.yaml')]);
    const findings = verifyCluster(after, [EXACT_SHOP]).findings.filter(f => f.severity === 'error');
    expect(findings.map(short)).toEqual(c.errors);
    for (const w of c.witnesses ?? []) expect(findings.map(f => f.message).join('\n')).toContain(w);
    if (c.opens) {
      const a = verifyCluster(after, [], { standInsFrom: [before] }).allowed;
      const b = verifyCluster(before, [], { standInsFrom: [after] }).allowed;
      expect(subtractPaths(a, b).map(p => `${p.from} -> ${p.to} ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}/${p.protocol}`)).toEqual(c.opens);
      expect(subtractPaths(b, a)).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Objects and input as kubectl and the API server see them (issue 34).
// ---------------------------------------------------------------------------------------------

describe('objects and input as kubectl and the API server see them (issue 34)', () => {
  const generatedShop = generatedObjects(EXACT_SHOP);
  const errorsOf = (objects: SourcedObjectLike[]) => {
    const invalid: InvalidValue[] = [];
    const cluster = clusterOf(objects, invalid);
    return [...invalid.map(invalidValueFinding), ...verifyCluster(cluster, [EXACT_SHOP]).findings].filter(f => f.severity === 'error').map(f => `${f.rule}: ${f.message.split(' is allowed')[0]}`);
  };
  type SourcedObjectLike = { file: string; object: unknown };
  const gen = generatedShop.map(object => ({ file: 'gen.yaml', object }));

  test('a second NetworkPolicy with the default deny\'s namespace and name replaces it (kubectl keeps the last) and is an error naming both files', () => {
    const open = netpol('shop-dev', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] });
    expect(errorsOf([...gen, { file: 'late.yaml', object: open }]).slice(0, 2)).toEqual([
      'manifest-invalid: late.yaml: NetworkPolicy/default-deny in shop-dev: NetworkPolicy/default-deny in shop-dev is defined twice, in gen.yaml and in late.yaml (read here as the last, as kubectl apply leaves it); the API server rejects the object',
      // The last one is what the cluster holds: no default deny for Egress, and ingress open.
      'default-deny-missing: namespace shop-dev has no default deny for Ingress and Egress: every pod of it not selected by a policy accepts (or sends) any traffic',
    ]);
  });

  test('items of a typed list without a kind take the list\'s (PodList, NetworkPolicyList as kubectl get -o json writes them)', () => {
    const deny = netpol('z', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }) as { kind?: string };
    delete deny.kind;
    const p = pod('z', 'c', { app: 'c' }) as { kind?: string };
    delete p.kind;
    const cluster = clusterOf([
      { file: 'list.json', object: { apiVersion: 'v1', kind: 'PodList', items: [p, pod('z', 'd', { app: 'd' })] } },
      { file: 'list.json', object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', items: [deny] } },
    ]);
    expect(cluster.pods.map(x => `${x.namespace}/${x.name}`)).toEqual(['z/c', 'z/d']);
    // The deny-all of the list is read: z/d -> z/c 80 is blocked.
    expect(cluster.allowed(cluster.pods[1], cluster.pods[0], 80, 'TCP')).toBe(false);
  });

  test('a hostNetwork pod with a registry service\'s labels is reported as unprotected, not left out silently', () => {
    const host = deployment('shop-dev', 'web-host', { 'app.kubernetes.io/name': 'web' }, [20000]) as { spec: { template: { spec: Record<string, unknown> } } };
    host.spec.template.spec.hostNetwork = true;
    // (web's Service selects the host-network pods: it stands for no pod of its own any more.)
    expect(clusterOf([...gen, { file: 'host.yaml', object: host }]).pods.map(p => p.name)).not.toContain('web');
    expect(errorsOf([...gen, { file: 'host.yaml', object: host }])).toEqual([
      'host-network-unprotected: host.yaml: Deployment/web-host in shop-dev runs with hostNetwork: true: no NetworkPolicy applies to it (it uses the node\'s network), so nothing limits what it sends or accepts; it has the labels of shop service web, whose policies do not protect it',
    ]);
  });

  test('what the API server rejects in a NetworkPolicy is manifest-invalid, not "matches nothing": CIDRs, label keys and values, operators, an empty peer', () => {
    const bad = netpol('shop-dev', 'bad', {
      podSelector: { matchLabels: { 'app kubernetes/name': 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{
        from: [
          { ipBlock: { cidr: '10.0.0.0/33' } },
          { ipBlock: { cidr: '10.1' } },
          { ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16', '10.0.0.0/8'] } },
          {},
          { namespaceSelector: { matchLabels: { team: 'a b' } } },
          { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In' }, { key: 'tier', operator: 'Exists', values: ['x'] }, { key: 'tier', operator: 'in', values: ['x'] }] } },
        ],
      }],
    });
    expect(errorsOf([...gen, { file: 'bad.yaml', object: bad }]).filter(e => e.startsWith('manifest-invalid')).map(e => e.replace('manifest-invalid: bad.yaml: NetworkPolicy/bad in shop-dev: ', '').replace('; the API server rejects the object', ''))).toEqual([
      'podSelector: label key "app kubernetes/name" is not a label key (an optional DNS-subdomain prefix and \'/\', then up to 63 letters, digits, \'-\', \'_\' and \'.\', a letter or digit at either end)',
      'ingress rule 1, peer 1: ipBlock cidr "10.0.0.0/33" is not a CIDR (an IPv4 address of four decimal parts or an IPv6 address, \'/\', a prefix length)',
      'ingress rule 1, peer 2: ipBlock cidr "10.1" is not a CIDR (an IPv4 address of four decimal parts or an IPv6 address, \'/\', a prefix length)',
      'ingress rule 1, peer 3: ipBlock except "11.0.0.0/16" is not strictly inside cidr "10.0.0.0/8"',
      'ingress rule 1, peer 3: ipBlock except "10.0.0.0/8" is not strictly inside cidr "10.0.0.0/8"',
      'ingress rule 1, peer 4: a peer with no podSelector, namespaceSelector or ipBlock',
      'ingress rule 1, peer 5, namespaceSelector: label value "a b" of team is not a label value (empty, or up to 63 letters, digits, \'-\', \'_\' and \'.\', a letter or digit at either end)',
      'ingress rule 1, peer 6, podSelector: In on "tier" with no values',
      'ingress rule 1, peer 6, podSelector: Exists on "tier" with values',
      'ingress rule 1, peer 6, podSelector: operator "in" is not In, NotIn, Exists or DoesNotExist',
    ]);
  });

  test('a symlinked manifest file is read, as kubectl -R -f reads it; a link to a folder or a broken link is a problem said, not skipped silently', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpol-links-'));
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'netpol-target-'));
    fs.writeFileSync(path.join(elsewhere, 'deny.yaml'), JSON.stringify(netpol('z', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })));
    fs.mkdirSync(path.join(elsewhere, 'more'));
    fs.writeFileSync(path.join(dir, 'pods.yaml'), JSON.stringify(pod('z', 'c', { app: 'c' })));
    fs.symlinkSync(path.join(elsewhere, 'deny.yaml'), path.join(dir, 'deny.yaml'));
    fs.symlinkSync(path.join(elsewhere, 'more'), path.join(dir, 'more'));
    fs.symlinkSync(path.join(elsewhere, 'gone.yaml'), path.join(dir, 'gone.yaml'));
    const loaded = loadFolder(dir);
    expect(loaded.cluster.policies.map(p => `${p.file}: ${p.namespace}/${p.name}`)).toEqual(['deny.yaml: z/deny']);
    expect(loaded.problems).toEqual([
      { file: 'gone.yaml', message: 'a link to nothing (kubectl -R -f would fail on it)' },
      { file: 'more', message: 'a link to a folder: not read (kubectl -R -f does not follow it either); link the files, or copy the folder' },
    ]);
  });
});
