/**
 * The example registry: Lumiere's hand-kept PORTS.md (shared/seeds/000_…), as code.
 *
 * Production, development and test run side by side on one host, each in its own band,
 * and a service keeps the same offset in every band. Infrastructure sits outside the bands.
 */
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Port, PortsApp, PortRegistry, RegisteredService } from './lib';

/** Declares the Lumiere registry in `scope`; exported so tests can synthesize it in-process. */
export function defineLumiere(scope: Construct): PortRegistry {
  const lumiere = new PortRegistry(scope, 'lumiere', {
    description: 'Lumiere: user management, event bus and blockchain bridge',
    environments: {
      production: { range: [8000, 8799], namespace: 'lumiere-prod' },
      development: { range: [9000, 9799], namespace: 'lumiere-dev' },
      test: { range: [7000, 7799], namespace: 'lumiere-test' },
    },
    categories: {
      // PORTS.md says "Infrastructure: 5000-6999, 8080, 9001+". 8080 lies inside the
      // production band and 9001+ overlaps the development band, so only 5000-6999 is kept
      // as the infrastructure range; the two servers that sit elsewhere are waived below.
      infrastructure: { ranges: [[5000, 6999]], description: 'Databases, caches and mirrors shared by every environment' },
    },
    waivers: [
      {
        rule: 'defacto-port', service: 'pourtier',
        reason: 'Pourtier keeps offset 0 (8000/9000/7000): its URLs are published to clients. ' +
          'On a laptop where Django, PHP-FPM/MinIO or the macOS AirPlay Receiver holds the port, use the fallback (+10000).',
      },
      {
        rule: 'outside-category', service: 'influxdb',
        reason: 'InfluxDB runs on its vendor default 8086, inside the production band: production offset 86 stays unused.',
      },
      {
        rule: 'outside-category', service: 'pypi-mirror',
        reason: 'The private PyPI mirror (nginx) has served 9001 since before the bands: development offset 1 stays unused.',
      },
    ],
  });

  // Reached from outside through the ingress controller; everything else only by declared connections.
  const pourtier = lumiere.service('pourtier', {
    description: 'User Management API', kind: 'http', owner: 'identity team',
    healthCheck: { path: '/health', port: 'http' },
    public: { namespaces: ['ingress-nginx'] },
    ports: { http: Port.offset(0, { appProtocol: 'http', fallback: { shift: 10000 } }) },
  });
  const courier = lumiere.service('courier', {
    description: 'Event Bus (WebSocket)', kind: 'websocket',
    ports: { ws: Port.offset(765, { appProtocol: 'ws' }) },
  });
  const passeur = lumiere.service('passeur', {
    description: 'Blockchain Bridge', kind: 'http',
    ports: { http: Port.offset(766, { appProtocol: 'http' }) },
  });

  // Infrastructure runs on the infrastructure host, outside the cluster (an example address).
  const infraHost = ['10.20.0.10/32'];
  const postgres = lumiere.external('postgres', {
    description: 'Database', kind: 'postgres', category: 'infrastructure', environments: ['production', 'development'],
    cidrs: infraHost, port: 5432,
  });
  const postgresTest = lumiere.external('postgres-test', {
    description: 'Test Database (integration/E2E)', kind: 'postgres', category: 'infrastructure', environments: ['test'],
    cidrs: infraHost, port: 5433,
  });
  const redis = lumiere.external('redis', { description: 'Cache', kind: 'redis', category: 'infrastructure', cidrs: infraHost, port: 6379 });
  lumiere.external('influxdb', { description: 'Time-series database', kind: 'influxdb', category: 'infrastructure', cidrs: infraHost, port: 8086 });
  lumiere.external('pypi-mirror', { description: 'Private Python packages (nginx)', kind: 'http', category: 'infrastructure', cidrs: infraHost, port: 9001 });

  pourtier.connectsTo(postgres).connectsTo(postgresTest).connectsTo(redis).connectsTo(courier, 'ws');
  courier.connectsTo(passeur, 'http');

  // The team's own workloads take their ports, labels and connection settings from the registry:
  // no number is typed twice (a wrong one would stop the synth with workload-drift).
  const workloads = new Chart(scope, 'lumiere-workloads');
  for (const [service, image] of [[pourtier, 'lumiere/pourtier:1.4'], [courier, 'lumiere/courier:2.0'], [passeur, 'lumiere/passeur:0.9']] as const) {
    service.bind(deployment(workloads, service, image), 'production');
  }

  return lumiere;
}

/** A Deployment with a stable name: bind() gives it the registry's ports, labels (it selects its pods by them), namespace and settings. */
function deployment(scope: Construct, service: RegisteredService, image: string): kplus.Deployment {
  return new kplus.Deployment(scope, service.name, {
    metadata: { name: service.name },
    containers: [{ name: service.name, image, securityContext: { ensureNonRoot: false } }],
  });
}

/** The AURA registry, kept as a file by a team that does not write TypeScript (shared/seeds/004_…). */
export function defineAura(scope: Construct): PortRegistry {
  return PortRegistry.fromFile(scope, 'aura', 'examples/aura/ports.yaml', { outputDir: 'aura' });
}

if (require.main === module) {
  const app = new PortsApp();
  defineLumiere(app);
  defineAura(app);
  app.synth();
}
