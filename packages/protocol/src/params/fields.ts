/**
 * Declarative parameter specs: each method lists its parameters once, and the same list
 * validates requests and generates the parameter tables in docs/protocol.md.
 */
import type { ErrorCode } from '../errors/catalog.js';
import { fail, type Failure } from './result.js';

export type FieldKind =
  | { readonly kind: 'text'; readonly maxLength: number; readonly pattern?: RegExp; readonly patternDoc?: string }
  | { readonly kind: 'url' }
  | { readonly kind: 'flag' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'decimal'; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly values: readonly string[]; readonly ignoreCase?: boolean }
  /** Image data, checked in the image stage after every other parameter. */
  | { readonly kind: 'image'; readonly encoding: 'multipart' | 'base64' };

export interface ParamSpec {
  readonly name: string;
  readonly type: FieldKind;
  readonly required?: boolean;
  /** Other names accepted for the same parameter. */
  readonly aliases?: readonly string[];
  /** Code when the parameter is absent (an empty value counts as absent). @defaultValue ERROR_BAD_PARAMETERS */
  readonly missingCode?: ErrorCode;
  /** Code when the parameter is present but empty; only where the vendors distinguish it. */
  readonly blankCode?: ErrorCode;
  /** Code when the value is malformed. @defaultValue ERROR_BAD_PARAMETERS */
  readonly invalidCode?: ErrorCode;
  readonly doc: string;
}

/** The request's parameters after body parsing; query string and body merged, the body winning. */
export interface RequestParams {
  readonly fields: ReadonlyMap<string, string>;
  readonly files: ReadonlyMap<string, UploadedFile>;
}

export interface UploadedFile {
  readonly filename?: string;
  readonly data: Uint8Array;
}

export type FieldValue = string | number | boolean;

/** Validated values by parameter name; absent optional parameters are not in the map. */
export class ParamValues {
  constructor(private readonly values: ReadonlyMap<string, FieldValue>) {}
  text(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  number(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  flag(name: string): boolean {
    return this.values.get(name) === true;
  }
  /** Every value present, by parameter name. */
  all(): Record<string, FieldValue> {
    return Object.fromEntries(this.values);
  }
}

/** The raw value of a parameter under its name or any alias; blank strings are kept (as ''). */
export function rawValue(params: RequestParams, spec: ParamSpec): string | undefined {
  const direct = params.fields.get(spec.name);
  if (direct !== undefined) return direct;
  for (const alias of spec.aliases ?? []) {
    const value = params.fields.get(alias);
    if (value !== undefined) return value;
  }
  return undefined;
}

const INTEGER = /^-?[0-9]{1,15}$/;
const DECIMAL = /^-?[0-9]{1,15}(\.[0-9]{1,15})?$/;

/** Validates one parameter. Returns undefined for an absent optional one. */
export function validateParam(params: RequestParams, spec: ParamSpec): { ok: true; value?: FieldValue } | Failure {
  if (spec.type.kind === 'image') return { ok: true };
  const raw = rawValue(params, spec);
  const missing = spec.missingCode ?? 'ERROR_BAD_PARAMETERS';
  if (raw === undefined || raw.trim() === '') {
    if (raw !== undefined && spec.blankCode !== undefined) return fail(spec.blankCode, `\`${spec.name}\` is blank`);
    return spec.required ? fail(missing, `\`${spec.name}\` is required`) : { ok: true };
  }
  const invalid = (why: string): Failure => fail(spec.invalidCode ?? 'ERROR_BAD_PARAMETERS', `\`${spec.name}\` ${why}`);
  const value = raw.trim();
  const type = spec.type;
  switch (type.kind) {
    case 'text': {
      if ([...value].length > type.maxLength) return invalid(`must be at most ${type.maxLength} characters`);
      if (type.pattern !== undefined && !type.pattern.test(value)) return invalid(`must be ${type.patternDoc ?? 'well-formed'}`);
      return { ok: true, value };
    }
    case 'url': {
      if (!isHttpUrl(value)) return invalid('must be an absolute http(s) URL');
      return { ok: true, value };
    }
    case 'flag': {
      const on = parseFlag(value);
      if (on === undefined) return invalid('must be 0 or 1 (or true or false)');
      return { ok: true, value: on };
    }
    case 'int': {
      const n = Number(value);
      if (!INTEGER.test(value) || n < type.min || n > type.max) return invalid(`must be an integer from ${type.min} to ${type.max}`);
      return { ok: true, value: n };
    }
    case 'decimal': {
      const n = Number(value);
      if (!DECIMAL.test(value) || n < type.min || n > type.max) return invalid(`must be a number from ${type.min} to ${type.max}`);
      return { ok: true, value: n };
    }
    case 'choice': {
      const found = type.values.find((v) => (type.ignoreCase ? v.toLowerCase() === value.toLowerCase() : v === value));
      if (found === undefined) return invalid(`must be one of ${type.values.join(', ')}`);
      return { ok: true, value: found };
    }
  }
}

/**
 * A yes/no flag: `1` and `0`, as the vendors document, or `true` and `false` in any case, as
 * published clients send them (`invisible=false` on every reCAPTCHA call of some); undefined otherwise.
 */
export function parseFlag(value: string): boolean | undefined {
  if (value === '1') return true;
  if (value === '0') return false;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

export function isHttpUrl(value: string): boolean {
  if (value.length > 2048) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Validates a list of parameters in order; the first problem wins. */
export function validateParams(params: RequestParams, specs: readonly ParamSpec[]): { ok: true; values: ParamValues } | Failure {
  const values = new Map<string, FieldValue>();
  for (const spec of specs) {
    const result = validateParam(params, spec);
    if (!result.ok) return result;
    if (result.value !== undefined) values.set(spec.name, result.value);
  }
  return { ok: true, values: new ParamValues(values) };
}
