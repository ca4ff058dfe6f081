export { PROTOCOLS, STATUSES, ENVIRONMENT_KINDS, RegistrySpecSchema } from './model/schema';
export type {
  Range, Protocol, Status, Fallback, HealthCheck, PortSpec, Connection, PublicSpec, ServiceSpec, ExternalPort, ExternalSpec,
  EnvironmentSpec, CategorySpec, AvoidSpec, Waiver, RegistrySpec,
} from './model/schema';
export { RULES, finding, blocking } from './model/finding';
export type { Finding, Where, Severity, RuleId } from './model/finding';
export { WELL_KNOWN_PORTS, DEFACTO_PORTS, ianaService } from './model/well-known';
export type { Environment } from './model/normalize';
export type { Allocation } from './allocation/allocate';
export type { Lock, LockFile } from './allocation/lock';
export { checkRegistry } from './check';
export { extendSpec } from './model/extend';
export type { RegistryBase } from './model/extend';
export { crossRegistryCollisions } from './rules/cross-registry';
export { freePorts } from './allocation/free-ports';
export type { FreePortQuery, FreePorts } from './allocation/free-ports';
export type { ResolvedRegistry, ResolvedConnection, CheckOptions } from './check';
export { formatFinding, formatFindings } from './format';
export { PortRegistry, RegisteredService, RegisteredExternal } from './registry';
export type { PortRegistryProps, ServiceProps, ExternalProps } from './registry';
export { PortsApp } from './app';
export type { PortsAppProps, SynthResult } from './app';
