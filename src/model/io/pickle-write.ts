/**
 * A Python pickle writer (protocol 2, the protocol `torch.save` uses) for the handful of values a
 * checkpoint holds: dicts, lists, tuples, str, int, float, bool, None, calls of named globals
 * (REDUCE, which is how `collections.OrderedDict` and tensors are pickled) and persistent ids
 * (how torch points at tensor storages). The counterpart of the reader in pickle.ts; it writes no
 * memo, which every unpickler accepts (the memo only shares repeated objects).
 */

/** A value to pickle. Plain objects and Maps become dicts (in insertion order), arrays lists. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | Map<string | number, PickleValue>
  | { [key: string]: PickleValue }
  | PyTuple
  | PyFloat
  | PyCall
  | PyPersistentId
  | PyGlobalRef;

/** A tuple (a JS array is a list). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** A Python float even where the number is integral (a JS integer otherwise pickles as an int). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** The global `module.name` (a class or function), as pickle's GLOBAL names it. */
export class PyGlobalRef {
  constructor(readonly module: string, readonly name: string) {}
}

/**
 * `callable(*args)` (REDUCE), then, for a dict-like result, `obj[k] = v` for each of `dictItems`
 * (SETITEMS): what `OrderedDict.__reduce__` asks for.
 */
export class PyCall {
  constructor(
    readonly callable: PyGlobalRef,
    readonly args: PickleValue[],
    readonly dictItems?: [PickleValue, PickleValue][],
  ) {}
}

/** A persistent id (BINPERSID): the unpickler's `persistent_load(pid)` supplies the object. */
export class PyPersistentId {
  constructor(readonly pid: PickleValue) {}
}

/** `collections.OrderedDict` with these items. */
export function orderedDict(items: Iterable<[string, PickleValue]>): PyCall {
  return new PyCall(new PyGlobalRef('collections', 'OrderedDict'), [], [...items]);
}

export class PickleWriteError extends Error {}

class Bytes {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number) {
    this.room(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u16(v: number) {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }
  u32(v: number) {
    this.room(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  i32(v: number) {
    this.room(4);
    new DataView(this.buf.buffer).setInt32(this.length, v, true);
    this.length += 4;
  }
  f64be(v: number) {
    this.room(8);
    new DataView(this.buf.buffer).setFloat64(this.length, v, false);
    this.length += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const op = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86,
  TUPLE3: 0x87, EMPTY_DICT: 0x7d, SETITEMS: 0x75, GLOBAL: 0x63, REDUCE: 0x52, BINPERSID: 0x51,
} as const;

/** Python batches APPENDS/SETITEMS by 1000; so do we (any batch size unpickles the same). */
const BATCH = 1000;

/** Two's-complement little-endian bytes of `v`, as short as Python's LONG1 encoding makes them. */
function longBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const last = out[out.length - 1];
    if ((x === 0n && (last & 0x80) === 0) || (x === -1n && (last & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** Pickle `value` (protocol 2). */
export function pickle(value: PickleValue): Uint8Array {
  const w = new Bytes();
  const utf8 = new TextEncoder();
  const latin1Line = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7e || c < 0x20) throw new PickleWriteError(`global name '${s}' is not printable ASCII`);
      w.byte(c);
    }
    w.byte(0x0a);
  };
  const int = (v: bigint) => {
    if (v >= 0n && v < 256n) {
      w.byte(op.BININT1);
      w.byte(Number(v));
    } else if (v >= 0n && v < 65536n) {
      w.byte(op.BININT2);
      w.u16(Number(v));
    } else if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      w.byte(op.BININT);
      w.i32(Number(v));
    } else {
      const b = longBytes(v);
      if (b.length > 255) throw new PickleWriteError('integer too large for LONG1');
      w.byte(op.LONG1);
      w.byte(b.length);
      w.bytes(b);
    }
  };
  const setItems = (items: [PickleValue, PickleValue][]) => {
    for (let i = 0; i < items.length; i += BATCH) {
      w.byte(op.MARK);
      for (const [k, v] of items.slice(i, i + BATCH)) {
        write(k);
        write(v);
      }
      w.byte(op.SETITEMS);
    }
  };
  const tuple = (items: PickleValue[]) => {
    if (items.length === 0) return w.byte(op.EMPTY_TUPLE);
    if (items.length <= 3) {
      items.forEach(write);
      return w.byte([op.TUPLE1, op.TUPLE2, op.TUPLE3][items.length - 1]);
    }
    w.byte(op.MARK);
    items.forEach(write);
    w.byte(op.TUPLE);
  };
  const stack = new Set<object>();
  const write = (v: PickleValue): void => {
    if (v === null || v === undefined) return w.byte(op.NONE);
    if (typeof v === 'boolean') return w.byte(v ? op.NEWTRUE : op.NEWFALSE);
    if (typeof v === 'bigint') return int(v);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return int(BigInt(v));
      w.byte(op.BINFLOAT);
      return w.f64be(v);
    }
    if (typeof v === 'string') {
      const b = utf8.encode(v);
      w.byte(op.BINUNICODE);
      w.u32(b.length);
      return w.bytes(b);
    }
    if (v instanceof PyFloat) {
      w.byte(op.BINFLOAT);
      return w.f64be(v.value);
    }
    if (v instanceof PyGlobalRef) {
      w.byte(op.GLOBAL);
      latin1Line(v.module);
      return latin1Line(v.name);
    }
    if (v instanceof PyTuple) return tuple(v.items);
    if (v instanceof PyPersistentId) {
      write(v.pid);
      return w.byte(op.BINPERSID);
    }
    if (stack.has(v)) throw new PickleWriteError('cannot pickle a value that contains itself');
    stack.add(v);
    try {
      if (v instanceof PyCall) {
        write(v.callable);
        tuple(v.args);
        w.byte(op.REDUCE);
        if (v.dictItems && v.dictItems.length > 0) setItems(v.dictItems);
        return;
      }
      if (Array.isArray(v)) {
        w.byte(op.EMPTY_LIST);
        for (let i = 0; i < v.length; i += BATCH) {
          w.byte(op.MARK);
          v.slice(i, i + BATCH).forEach(write);
          w.byte(op.APPENDS);
        }
        return;
      }
      if (v instanceof Map) {
        w.byte(op.EMPTY_DICT);
        return setItems([...v.entries()]);
      }
      if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        w.byte(op.EMPTY_DICT);
        return setItems(Object.entries(v).filter(([, x]) => x !== undefined));
      }
      throw new PickleWriteError(`cannot pickle a ${(v as object).constructor?.name ?? typeof v}`);
    } finally {
      stack.delete(v);
    }
  };
  w.byte(op.PROTO);
  w.byte(2);
  write(value);
  w.byte(op.STOP);
  return w.result();
}
