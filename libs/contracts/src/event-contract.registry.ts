import { z, ZodType } from 'zod';
import { ContractErrorCode, ContractException } from './contract.exception';

export interface EventContract<TData = unknown> {
  type: string;
  version: number;
  schema: ZodType<TData>;
}

/** An event as deciders and evolvers see it: its type and its data, without the envelope. */
export interface ContractEvent {
  type: string;
  data: unknown;
}

/** Turns data of `fromVersion` into data of `fromVersion + 1`. Pure; never touches storage. */
export type Upcaster = (data: unknown) => unknown;

/**
 * Every event type and version the platform knows, with a schema for its data and upcasters
 * between consecutive versions. Old events are upcast on read and never rewritten, so the
 * hash chain over the stored bytes stays valid.
 *
 * `E` is the union of the registered events (`{ type, data }` per type and version), built up by
 * `register` and `include` when a registry starts as `new EventContractRegistry<never>()`, so
 * that code handling a log's events can be checked against the log's contracts.
 */
export class EventContractRegistry<E extends ContractEvent = ContractEvent> {
  /** Never set: makes a registry of one log's events a different type from another's. */
  declare readonly events?: E;
  private readonly contracts = new Map<string, Map<number, EventContract>>();
  private readonly upcasters = new Map<string, Map<number, Upcaster>>();

  register<TType extends string, TData>(contract: EventContract<TData> & { type: TType }): EventContractRegistry<E | { type: TType; data: TData }> {
    const versions = this.contracts.get(contract.type) ?? new Map<number, EventContract>();
    if (versions.has(contract.version)) {
      throw new ContractException(ContractErrorCode.DuplicateRegistration, `${contract.type} v${contract.version} is already registered`);
    }
    versions.set(contract.version, contract as EventContract);
    this.contracts.set(contract.type, versions);
    return this;
  }

  registerUpcaster(type: string, fromVersion: number, upcast: Upcaster): this {
    const byVersion = this.upcasters.get(type) ?? new Map<number, Upcaster>();
    byVersion.set(fromVersion, upcast);
    this.upcasters.set(type, byVersion);
    return this;
  }

  /** Registers all contracts of another registry (each service contributes its own). */
  include<F extends ContractEvent>(other: EventContractRegistry<F>): EventContractRegistry<E | F> {
    for (const versions of other.contracts.values()) for (const c of versions.values()) this.register(c);
    for (const [type, byVersion] of other.upcasters) {
      for (const [from, fn] of byVersion) this.registerUpcaster(type, from, fn);
    }
    return this;
  }

  has(type: string): boolean {
    return this.contracts.has(type);
  }

  types(): string[] {
    return [...this.contracts.keys()].sort();
  }

  currentVersion(type: string): number {
    const versions = this.versionsOf(type);
    return Math.max(...versions.keys());
  }

  /** Validates data against the schema of that exact type and version; returns the parsed data. */
  validate(type: string, version: number, data: unknown): unknown {
    const contract = this.versionsOf(type).get(version);
    if (!contract) {
      throw new ContractException(
        ContractErrorCode.UnknownSchemaVersion,
        `${type} has no schema version ${version} (known: ${[...this.versionsOf(type).keys()].join(', ')})`,
      );
    }
    const result = contract.schema.safeParse(data);
    if (!result.success) throw invalid(type, version, result.error);
    return result.data;
  }

  /**
   * Checks an event read back (already upcast to the current version) against its contract and
   * returns it typed. `T` narrows to the events of one stream: which types a stream holds is
   * its writer's invariant, which no registry can check.
   */
  parse<T extends E = E>(type: string, version: number, data: unknown): T {
    return { type, data: this.validate(type, version, data) } as T;
  }

  /** Brings data of an old version to the current one, one registered step at a time. */
  upcast(type: string, version: number, data: unknown): { version: number; data: unknown } {
    const current = this.currentVersion(type);
    let v = version;
    let d = data;
    while (v < current) {
      const step = this.upcasters.get(type)?.get(v);
      if (!step) {
        throw new ContractException(ContractErrorCode.MissingUpcaster, `${type} has no upcaster from v${v} to v${v + 1}`);
      }
      d = step(d);
      v += 1;
    }
    return { version: v, data: d };
  }

  private versionsOf(type: string): Map<number, EventContract> {
    const versions = this.contracts.get(type);
    if (!versions) {
      throw new ContractException(ContractErrorCode.UnknownEventType, `unknown event type ${JSON.stringify(type)}`);
    }
    return versions;
  }
}

function invalid(type: string, version: number, error: z.ZodError): ContractException {
  const fields = error.issues.map((i) => ['data', ...i.path].join('.'));
  const detail = error.issues.map((i) => `${['data', ...i.path].join('.')}: ${i.message}`).join('; ');
  return new ContractException(ContractErrorCode.InvalidEventData, `${type} v${version} is invalid: ${detail}`, fields);
}
