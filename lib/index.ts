export { PROTOCOLS, STATUSES, ENVIRONMENT_KINDS, RegistrySpecSchema } from './model/schema';
export { Port } from './model/types';
export type {
  Range, Protocol, Status, EnvironmentKind, PerEnvironment, Fallback, HealthCheck, PortSpec, PortOptions, Connection, PublicSpec, RouteSpec, GatewayRef, EntrySpec,
  ServiceSpec, ExternalPort, ExternalSpec, EnvironmentSpec, CategorySpec, AvoidSpec, Waiver, DefactoEntry, ComposeCheck, RegistrySpec, UrlSpec,
} from './model/types';
export { RULES } from './model/finding';
export type { Finding, Where, Severity, RuleId } from './model/finding';
export { WELL_KNOWN_PORTS, DEFACTO_PORTS, ianaService } from './model/well-known';
export type { DefactoPort, IanaEntry } from './model/well-known';
export type { Environment } from './model/normalize';
export type { Allocation } from './allocation/allocate';
export type { Lock, LockFile } from './model/resolved';
export { checkRegistry } from './check/check-registry';
export { extendSpec } from './model/extend';
export type { RegistryBase } from './model/extend';
export { crossRegistryCollisions } from './rules/cross-registry';
export { freePorts } from './allocation/free-ports';
export type { FreePortQuery, FreePorts } from './allocation/free-ports';
export type { ResolvedRegistry, ResolvedConnection, InboundConnection, PeerTarget, CheckOptions } from './check/check-registry';
export { formatFinding, formatFindings } from './model/format';
export { PortRegistry } from './constructs/port-registry';
export type { PortRegistryProps, ServiceProps, ExternalProps } from './constructs/port-registry';
export { RegisteredService, RegisteredPort } from './constructs/registered-service';
export type { Endpoint, ResolvedPort, ConnectOptions } from './constructs/registered-service';
export { RegisteredExternal } from './constructs/registered-external';
export type { BindOptions } from './constructs/bind';
export { PortsApp } from './constructs/ports-app';
export type { PortsAppProps, SynthResult } from './constructs/ports-app';
export type { FileSet } from './io/output';
export { PortsValidation, VALIDATION_CHECKS } from './validate/plugin';
export type { PortsValidationProps, PortsValidationContext, ValidationCheck, Violation, ViolatingResource } from './validate/plugin';
