import type { z } from 'zod';
import { Port, RegistrySpecSchema, checkRegistry } from '../lib';
import type * as Schema from '../lib/model/schema';
import type * as Public from '../lib/model/types';

/**
 * The public interfaces are written by hand (for the docs and for users' editors); zod stays the
 * validator. Each pair below must accept the same shapes: `tsc --noEmit` (run by `npm test`)
 * fails to compile this file when an interface and its schema disagree in either direction.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(proof: Same<A, B>) => proof;

test('the hand-written public types accept exactly what the schema accepts', () => {
  const proofs = [
    same<Public.PortSpec, Schema.PortSpec>(true),
    same<Public.ServiceSpec, Schema.ServiceSpec>(true),
    same<Public.ExternalPort, Schema.ExternalPort>(true),
    same<Public.ExternalSpec, Schema.ExternalSpec>(true),
    same<Public.EnvironmentSpec, Schema.EnvironmentSpec>(true),
    same<Public.CategorySpec, Schema.CategorySpec>(true),
    same<Public.AvoidSpec, Schema.AvoidSpec>(true),
    same<Public.Waiver, Schema.Waiver>(true),
    same<Public.HealthCheck, Schema.HealthCheck>(true),
    same<Public.Connection, Schema.Connection>(true),
    same<Public.UrlSpec, Schema.UrlSpec>(true),
    same<Public.RegistrySpec, z.infer<typeof RegistrySpecSchema>>(true),
    // And the check can tell them apart: a type with one field less is not the same.
    same<Omit<Public.ServiceSpec, 'ports'>, Schema.ServiceSpec>(false),
  ];
  expect(proofs).toEqual([...Array(proofs.length - 1).fill(true), false]);
});

test('the Port factories build the port specs the checker reads', () => {
  const resolved = checkRegistry({
    name: 'factories',
    environments: { production: { range: [8000, 8099] }, development: { range: [9000, 9099] } },
    services: {
      api: { public: true, ports: { http: Port.offset(10, { appProtocol: 'http' }), admin: Port.fixed({ production: 8050, development: 9050 }) } },
      worker: { public: true, ports: { metrics: Port.auto(), grpc: Port.commonOffset({ protocol: 'UDP' }) } },
    },
  });
  expect(resolved.findings).toEqual([]);
  const port = (service: string, name: string, env: string) => resolved.allocations.find(a => a.service === service && a.portName === name && a.environment === env);
  expect(port('api', 'http', 'development')).toMatchObject({ port: 9010, appProtocol: 'http', source: 'offset' });
  expect(port('api', 'admin', 'production')).toMatchObject({ port: 8050, source: 'explicit' });
  expect(port('worker', 'metrics', 'production')).toMatchObject({ port: 8001, source: 'auto' }); // 8000 is a de-facto default (dev servers)
  expect(port('worker', 'grpc', 'development')).toMatchObject({ port: 9001, protocol: 'UDP', source: 'offset' }); // offset 0 is 8000, a de-facto default
});
