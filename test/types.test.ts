import type { z } from 'zod';
import { Port, RegistrySpecSchema, checkRegistry } from '../lib';
import type * as Schema from '../lib/model/schema';
import type * as Public from '../lib/model/types';

/**
 * The public interfaces are written by hand (for the docs and for users' editors), the one
 * definition of each type (lib/model/schema.ts re-exports them); zod stays the validator. Each
 * interface and its schema's output (`z.infer`) must accept the same shapes: `tsc --noEmit` (run
 * by `npm test`) fails to compile this file when they disagree in either direction.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(proof: Same<A, B>) => proof;

test('the hand-written public types accept exactly what the schema accepts', () => {
  const proofs = [
    same<Public.PortSpec, z.infer<typeof Schema.PortSpecSchema>>(true),
    same<Public.ServiceSpec, z.infer<typeof Schema.ServiceSpecSchema>>(true),
    same<Public.ExternalPort, z.infer<typeof Schema.ExternalPortSchema>>(true),
    same<Public.ExternalSpec, z.infer<typeof Schema.ExternalSpecSchema>>(true),
    same<Public.EnvironmentSpec, z.infer<typeof Schema.EnvironmentSpecSchema>>(true),
    same<Public.CategorySpec, z.infer<typeof Schema.CategorySpecSchema>>(true),
    same<Public.AvoidSpec, z.infer<typeof Schema.AvoidSpecSchema>>(true),
    same<Public.Waiver, z.infer<typeof Schema.WaiverSchema>>(true),
    same<Public.HealthCheck, z.infer<typeof Schema.HealthCheckSchema>>(true),
    same<Public.Connection, z.infer<typeof Schema.ConnectionSchema>>(true),
    same<Public.UrlSpec, z.infer<typeof Schema.UrlSpecSchema>>(true),
    same<Public.Range, z.infer<typeof Schema.RangeSchema>>(true),
    same<Public.Protocol, z.infer<typeof Schema.ProtocolSchema>>(true),
    same<Public.Status, z.infer<typeof Schema.StatusSchema>>(true),
    same<Public.Fallback, z.infer<typeof Schema.FallbackSchema>>(true),
    same<Public.GatewayRef, z.infer<typeof Schema.GatewayRefSchema>>(true),
    same<Public.RouteSpec, z.infer<typeof Schema.RouteSpecSchema>>(true),
    same<Public.PublicSpec, z.infer<typeof Schema.PublicSpecSchema>>(true),
    same<Public.RegistrySpec, z.infer<typeof RegistrySpecSchema>>(true),
    // And the check can tell them apart: a type with one field less is not the same.
    same<Omit<Public.ServiceSpec, 'ports'>, z.infer<typeof Schema.ServiceSpecSchema>>(false),
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
