import type { Endpoint } from './registered-service';
import type { PortRegistry } from './port-registry';

/** An external endpoint of the registry (a database, a broker, a mirror), returned by `PortRegistry.external()`. */
export class RegisteredExternal<P extends string = string> implements Endpoint<P> {
  /** The port names, for the type checker only (see {@link Endpoint}). @hidden */
  declare public readonly __ports?: P;
  /** @internal */
  constructor(public readonly registry: PortRegistry<string>, public readonly name: string) {}
}
