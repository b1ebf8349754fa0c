// A tiny declarative codec for fixed-layout C structs (little-endian, LP64: 'ptr' is 8 bytes).
// Meant for tests, tools and the conformance runner; hot paths read with DataView directly.

import { parseFlagExprBigInt } from './fcntl.js';

/** 'ptr' = u64 on 64-bit; 'char' = fixed char array (needs `count`), encoded from / decoded to a string. */
export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 's64' | 'ptr' | 'char';

export interface StructField {
  readonly name: string;
  readonly type: FieldType;
  readonly offset: number;
  /** Array length. For 'char' the byte length of the string buffer; for numeric types an array
   * whose elements are addressed as `name[i]` in the value records. Default 1. */
  readonly count?: number;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly StructField[];
}

export type StructValue = number | bigint | string;
export type StructValues = Record<string, StructValue>;
export type Resolver = (s: string) => number | bigint;

/** Size in bytes of one element of each field type. */
export const FIELD_SIZES: Readonly<Record<FieldType, number>> = Object.freeze({
  u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, s64: 8, ptr: 8, char: 1,
});

const RANGES: Readonly<Record<Exclude<FieldType, 'char'>, readonly [bigint, bigint]>> = {
  u8: [0n, 0xffn],
  u16: [0n, 0xffffn],
  u32: [0n, 0xffffffffn],
  s32: [-0x80000000n, 0x7fffffffn],
  u64: [0n, 0xffffffffffffffffn],
  s64: [-0x8000000000000000n, 0x7fffffffffffffffn],
  ptr: [0n, 0xffffffffffffffffn],
};

/** Total byte size of a field (element size × count). */
export function fieldByteSize(f: StructField): number {
  return FIELD_SIZES[f.type] * (f.count ?? 1);
}

/**
 * Build a frozen layout, checking that every field lies inside `size`, is naturally aligned,
 * does not overlap another field, and that names are unique.
 */
export function defineStruct(name: string, size: number, fields: readonly StructField[]): StructLayout {
  const seen = new Set<string>();
  const sorted = [...fields].sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const f of sorted) {
    const count = f.count ?? 1;
    if (seen.has(f.name)) throw new RangeError(`${name}: duplicate field '${f.name}'`);
    seen.add(f.name);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`${name}.${f.name}: bad count ${count}`);
    if (f.offset % FIELD_SIZES[f.type] !== 0) throw new RangeError(`${name}.${f.name}: offset ${f.offset} not aligned`);
    if (f.offset < end) throw new RangeError(`${name}.${f.name}: overlaps the previous field`);
    end = f.offset + fieldByteSize(f);
    if (end > size) throw new RangeError(`${name}.${f.name}: ends at ${end}, beyond struct size ${size}`);
  }
  return Object.freeze({
    name,
    size,
    fields: Object.freeze(fields.map((f) => Object.freeze({ ...f }))),
  });
}

// ---------------------------------------------------------------------------------------------
// UTF-8 (no TextEncoder: lib is ES2022 only)

/** The UTF-8 bytes of a string. */
export function utf8Encode(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return out;
}

/** Bytes [start, end) of `b` as UTF-8 (U+FFFD for each byte of an invalid sequence). */
export function utf8Decode(b: Uint8Array, start: number, end: number): string {
  let s = '';
  let i = start;
  while (i < end) {
    const c = b[i] ?? 0;
    let need = 0;
    let cp = 0;
    let min = 0;
    if (c < 0x80) { s += String.fromCharCode(c); i++; continue; }
    if (c >= 0xc2 && c < 0xe0) { need = 1; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c < 0xf0) { need = 2; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c < 0xf5) { need = 3; cp = c & 0x07; min = 0x10000; }
    else { s += '\ufffd'; i++; continue; }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++, j++) {
      const cc = j < end ? (b[j] ?? 0) : 0;
      if (j >= end || (cc & 0xc0) !== 0x80) { ok = false; break; }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) { s += '\ufffd'; i++; continue; }
    s += String.fromCodePoint(cp);
    i = j;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

function toBigInt(layout: StructLayout, key: string, v: StructValue, resolve: Resolver | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new RangeError(`${layout.name}.${key}: value ${v} is not an integer`);
    return BigInt(v);
  }
  try {
    if (resolve !== undefined) {
      const r = resolve(v);
      return typeof r === 'bigint' ? r : toBigInt(layout, key, r, undefined);
    }
    return parseFlagExprBigInt(v, {});
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new RangeError(`${layout.name}.${key}: cannot resolve '${v}': ${msg}`);
  }
}

function writeNumber(dv: DataView, type: Exclude<FieldType, 'char'>, off: number, v: bigint): void {
  switch (type) {
    case 'u8': dv.setUint8(off, Number(v)); break;
    case 'u16': dv.setUint16(off, Number(v), true); break;
    case 'u32': dv.setUint32(off, Number(v), true); break;
    case 's32': dv.setInt32(off, Number(v), true); break;
    case 'u64': case 'ptr': dv.setBigUint64(off, v, true); break;
    case 's64': dv.setBigInt64(off, v, true); break;
  }
}

/**
 * Encode `values` into the struct's bytes (little-endian). Missing fields are 0. String values
 * of numeric fields are resolved with `resolve` (e.g. flag expressions) or, without it, parsed
 * as numeric literals. Out-of-range values throw RangeError naming the field. With `into`, the
 * first `layout.size` bytes of it are zeroed and written, and `into` is returned.
 */
export function encodeStruct(layout: StructLayout, values: Readonly<StructValues>, into?: Uint8Array, resolve?: Resolver): Uint8Array {
  const out = into ?? new Uint8Array(layout.size);
  if (out.length < layout.size) throw new RangeError(`${layout.name}: buffer of ${out.length} bytes is smaller than ${layout.size}`);
  out.fill(0, 0, layout.size);
  const dv = new DataView(out.buffer, out.byteOffset, layout.size);
  const known = new Set<string>();
  for (const f of layout.fields) {
    const count = f.count ?? 1;
    if (f.type === 'char') {
      known.add(f.name);
      const v = values[f.name];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new RangeError(`${layout.name}.${f.name}: char[${count}] needs a string, got ${typeof v}`);
      const bytes = utf8Encode(v);
      if (bytes.length > count) throw new RangeError(`${layout.name}.${f.name}: string of ${bytes.length} bytes does not fit char[${count}]`);
      out.set(bytes, f.offset);
      continue;
    }
    const [min, max] = RANGES[f.type];
    const esize = FIELD_SIZES[f.type];
    for (let i = 0; i < count; i++) {
      const key = f.count === undefined ? f.name : `${f.name}[${i}]`;
      known.add(key);
      const v = values[key];
      if (v === undefined) continue;
      const b = toBigInt(layout, key, v, resolve);
      if (b < min || b > max) throw new RangeError(`${layout.name}.${key}: value ${b} out of range for ${f.type} (${min}..${max})`);
      writeNumber(dv, f.type, f.offset + i * esize, b);
    }
  }
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw new RangeError(`${layout.name}: no field named '${key}'`);
  }
  return out;
}

function readNumber(dv: DataView, type: Exclude<FieldType, 'char'>, off: number): number | bigint {
  switch (type) {
    case 'u8': return dv.getUint8(off);
    case 'u16': return dv.getUint16(off, true);
    case 'u32': return dv.getUint32(off, true);
    case 's32': return dv.getInt32(off, true);
    case 'u64': case 'ptr': {
      const v = dv.getBigUint64(off, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 's64': {
      const v = dv.getBigInt64(off, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
  }
}

/**
 * Decode a struct. u64/s64/ptr give a number when it is a safe integer, else a bigint; 'char'
 * fields give the string up to the first NUL. Input shorter than the struct reads as 0 past its end.
 */
export function decodeStruct(layout: StructLayout, bytes: Uint8Array): Record<string, StructValue> {
  let src = bytes;
  if (src.length < layout.size) {
    src = new Uint8Array(layout.size);
    src.set(bytes);
  }
  const dv = new DataView(src.buffer, src.byteOffset, layout.size);
  const out: Record<string, StructValue> = {};
  for (const f of layout.fields) {
    if (f.type === 'char') {
      const start = f.offset;
      const limit = start + (f.count ?? 1);
      let end = start;
      while (end < limit && src[end] !== 0) end++;
      out[f.name] = utf8Decode(src, start, end);
      continue;
    }
    if (f.count === undefined) {
      out[f.name] = readNumber(dv, f.type, f.offset);
      continue;
    }
    const esize = FIELD_SIZES[f.type];
    for (let i = 0; i < f.count; i++) out[`${f.name}[${i}]`] = readNumber(dv, f.type, f.offset + i * esize);
  }
  return out;
}

/** The field of a layout with that name (throws RangeError if absent). */
export function structField(layout: StructLayout, name: string): StructField {
  const f = layout.fields.find((x) => x.name === name);
  if (f === undefined) throw new RangeError(`${layout.name}: no field named '${name}'`);
  return f;
}
