/**
 * What the allocator met while placing ports, as data: a port taken by someone else, a value that
 * is no port, a range with no free port left … The allocator only says what happened, in the order
 * it happened; the rules (lib/rules/allocation.ts) turn each outcome into a finding and its fix.
 * (Kubernetes' port allocator answers the same way: ErrAllocated, ErrNotInRange, ErrFull.)
 */
import type { Environment } from '../model/normalize';
import type { Allocation } from '../model/resolved';
import type { PortDecl, Request } from './request';

/** Who holds a port: a placed port, a request's fallback, or a lock entry no port uses any more. */
export type Holder =
  | { readonly kind: 'port'; readonly allocation: Allocation }
  | { readonly kind: 'fallback'; readonly request: Request }
  | { readonly kind: 'stale'; readonly key: string }
  /** A port another registry of the same base holds (never met in an outcome: see Placer.holdForeign). */
  | { readonly kind: 'foreign' };

/** Which of a request's numbers met the outcome. */
export type PortField = 'port' | 'fallback' | 'nodePort';

/** The port (or fallback, or NodePort) a request asked for is already held by `holder`. */
export interface Allocated {
  readonly kind: 'allocated';
  readonly request: Request;
  readonly port: number;
  readonly what: PortField;
  readonly holder: Holder;
}

/** A number given as a port or fallback is not a port at all (not an integer in 1-65535). */
export interface NotInRange {
  readonly kind: 'not-in-range';
  readonly request: Request;
  readonly field: 'port' | 'fallback';
  readonly value: number;
}

/**
 * No free port is left for an automatic port: its ranges are full (`taken`), it has no range, its
 * category lies outside its band, or its category assigns sequentially and nothing is left after the
 * highest port used. `invalid-range`: its category's ranges are no ranges (another rule reports that).
 */
export interface Full {
  readonly kind: 'full';
  readonly request: Request;
  readonly why: 'taken' | 'sequential' | 'no-range' | 'category-outside-band' | 'invalid-range';
}

/** No offset is free in every band of the environments that share an `offset: auto`. */
export interface NoCommonOffset {
  readonly kind: 'no-common-offset';
  readonly requests: readonly Request[];
}

/** A fallback the registry's rules refuse: an avoided port, or a system port of an unprivileged port. */
export interface FallbackRefused {
  readonly kind: 'fallback-refused';
  readonly request: Request;
  readonly port: number;
  readonly why: 'avoided' | 'system';
}

/** Where a declared port is, for the outcomes met before it has a request. */
export interface Declared {
  readonly service: string;
  readonly portName: string;
  readonly path: string;
}

/** A port that sets more than one of port, offset and auto. */
export interface SeveralSources extends Declared {
  readonly kind: 'several-sources';
  readonly sources: readonly ('port' | 'offset' | 'auto')[];
}

/** A port with `auto: false` and neither port nor offset. */
export interface NoSource extends Declared {
  readonly kind: 'no-source';
}

/** A port given per environment, without an entry for `environment`. */
export interface NoPortForEnvironment extends Declared {
  readonly kind: 'no-port-for-environment';
  readonly environment: string;
}

/** A port given as an offset, in an environment without a band. */
export interface OffsetWithoutBand {
  readonly kind: 'no-band';
  readonly decl: PortDecl;
  readonly env: Environment;
}

/** A lock entry (a port's, or an `offset ` one's) that no automatic port uses any more: it is dropped. */
export interface StaleLockEntry {
  readonly kind: 'stale-lock';
  readonly key: string;
  readonly value: number;
}

export type Outcome = Allocated | NotInRange | Full | NoCommonOffset | FallbackRefused | SeveralSources | NoSource | NoPortForEnvironment |
  OffsetWithoutBand | StaleLockEntry;
