import { cloneJson, isJsonObject, type JsonObject } from '../json';
import type { ObjectValidator, ValidationIssue, ValidationResult } from '../validation/validator';

/** Turns data of schema version N into data of version N + 1. Never sees anything but JSON. */
export type Upcaster = (data: JsonObject) => JsonObject;

/** What the store and the crypto layer need to know about one event type. */
export interface EventTypeDefinition<Type extends string = string, Data = unknown> {
  readonly type: Type;
  /** Version written today. Versions `firstSchemaVersion..schemaVersion` can be read. */
  readonly schemaVersion: number;
  /** Oldest version ever written; defaults to 1. */
  readonly firstSchemaVersion?: number;
  /**
   * Top-level data fields that may be stored in clear: opaque ids and enums. Every other field is
   * encrypted with the subject's key before the first write.
   */
  readonly plainFields: readonly string[];
  /** Validates data of the current schema version, naming each failing field. */
  readonly validator: ObjectValidator<Data>;
  /** `upcasters[N]` maps version N to N + 1. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
}

export type EventSchemaErrorCode =
  | 'UNKNOWN_EVENT_TYPE'
  | 'UNSUPPORTED_SCHEMA_VERSION'
  | 'NO_UPCAST_PATH'
  | 'INVALID_EVENT_DATA'
  | 'INVALID_EVENT_DEFINITION';

/** Stored event data cannot be read as the current schema. A server-side fault, never the caller's. */
export class EventSchemaError extends Error {
  constructor(
    readonly code: EventSchemaErrorCode,
    message: string,
    readonly eventType: string,
    readonly schemaVersion?: number,
    readonly issues: readonly ValidationIssue[] = [],
  ) {
    super(message);
    this.name = 'EventSchemaError';
  }
}

export interface EventRegistry {
  /** Registered event types, sorted. */
  types(): readonly string[];
  has(type: string): boolean;
  definition(type: string): EventTypeDefinition;
  currentVersion(type: string): number;
  /** Every schema version of `type` that may exist in the store, oldest first. */
  versions(type: string): readonly number[];
  plainFields(type: string): readonly string[];
  /** Data of `schemaVersion` brought to the current version. Does not validate. */
  upcast(type: string, schemaVersion: number, data: unknown): JsonObject;
  validate(type: string, data: unknown): ValidationResult<unknown>;
  /**
   * Upcast, then validate: the data a reader may rely on, or an INVALID_EVENT_DATA error. Data
   * already of the current version is validated as it is, not copied first (validation never
   * modifies it), so the result may share values with `data`: pass data no one else changes.
   */
  read(type: string, schemaVersion: number, data: unknown): unknown;
}

/** Builds a registry; throws INVALID_EVENT_DEFINITION on duplicate types or inconsistent definitions. */
export function createEventRegistry(definitions: readonly EventTypeDefinition[]): EventRegistry {
  const byType = new Map<string, EventTypeDefinition>();
  for (const definition of definitions) {
    const { type, schemaVersion } = definition;
    const first = definition.firstSchemaVersion ?? 1;
    const invalid = (why: string): EventSchemaError =>
      new EventSchemaError('INVALID_EVENT_DEFINITION', `event type ${type}: ${why}`, type);
    if (byType.has(type)) throw invalid('registered twice');
    if (!/^[A-Z][A-Za-z0-9]*$/.test(type)) throw invalid('type must be PascalCase');
    if (!Number.isInteger(schemaVersion) || !Number.isInteger(first) || first < 1 || schemaVersion < first) {
      throw invalid('schema versions must be integers with 1 <= firstSchemaVersion <= schemaVersion');
    }
    for (const field of definition.plainFields) {
      if (!definition.validator.keys.includes(field)) throw invalid(`plain field ${field} is not a data field`);
    }
    byType.set(type, definition);
  }

  const definition = (type: string): EventTypeDefinition => {
    const found = byType.get(type);
    if (found === undefined) throw new EventSchemaError('UNKNOWN_EVENT_TYPE', `unknown event type ${type}`, type);
    return found;
  };

  const upcast = (type: string, schemaVersion: number, data: unknown): JsonObject => {
    const def = definition(type);
    const first = def.firstSchemaVersion ?? 1;
    if (!Number.isInteger(schemaVersion) || schemaVersion < first || schemaVersion > def.schemaVersion) {
      throw new EventSchemaError(
        'UNSUPPORTED_SCHEMA_VERSION',
        `${type} v${String(schemaVersion)} is outside the known versions ${first}..${def.schemaVersion}`,
        type,
        schemaVersion,
      );
    }
    if (!isJsonObject(data)) {
      throw new EventSchemaError('INVALID_EVENT_DATA', `${type} v${schemaVersion} data must be a JSON object`, type, schemaVersion);
    }
    let current = cloneJson(data);
    for (let version = schemaVersion; version < def.schemaVersion; version++) {
      const upcaster = def.upcasters[version];
      if (upcaster === undefined) {
        throw new EventSchemaError(
          'NO_UPCAST_PATH',
          `${type}: no upcaster from v${version} to v${version + 1} (reading v${schemaVersion}, current v${def.schemaVersion})`,
          type,
          schemaVersion,
        );
      }
      current = upcaster(current);
    }
    return current;
  };

  const types = [...byType.keys()].sort();
  return {
    types: () => types,
    has: (type) => byType.has(type),
    definition,
    currentVersion: (type) => definition(type).schemaVersion,
    versions: (type) => {
      const def = definition(type);
      const first = def.firstSchemaVersion ?? 1;
      return Array.from({ length: def.schemaVersion - first + 1 }, (_, i) => first + i);
    },
    plainFields: (type) => definition(type).plainFields,
    upcast,
    validate: (type, data) => definition(type).validator.check(data),
    read(type, schemaVersion, data) {
      const def = definition(type);
      // Only upcasters need a copy of their own; the current version is checked in place.
      const current = schemaVersion === def.schemaVersion && isJsonObject(data) ? data : upcast(type, schemaVersion, data);
      const result = def.validator.check(current);
      if (!result.ok) {
        throw new EventSchemaError(
          'INVALID_EVENT_DATA',
          `${type} v${schemaVersion}: ${result.issues.map((i) => i.message).join('; ')}`,
          type,
          schemaVersion,
          result.issues,
        );
      }
      return result.value;
    },
  };
}

/** Identity helper that keeps the literal type and data type of a definition. */
export function defineEventType<Type extends string, Data>(definition: EventTypeDefinition<Type, Data>): EventTypeDefinition<Type, Data> {
  return definition;
}
