/**
 * A Python pickle reader for the subset PyTorch checkpoints use (protocols 2–5). It executes
 * nothing: globals resolve only to the handful of constructors registered by the caller, and
 * any other class becomes an inert `PyObject` record of its name, arguments and state, so a
 * checkpoint from a newer Lightning or TorchMD-Net still opens and only the fields oreo reads
 * must make sense.
 */

/** A Python dict; keys may be strings, numbers or tuples, so we keep a Map. */
export type PyDict = Map<unknown, unknown>;

/** An instance of a class we do not interpret: name, constructor args, dict items and state. */
export class PyObject {
  readonly items: PyDict = new Map();
  state: unknown = undefined;
  constructor(
    readonly className: string,
    readonly args: unknown[] = [],
  ) {}
}

/** A reference to a global we do not interpret (a class or function). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export class PickleError extends Error {}

export interface PickleHooks {
  /** Resolve `module.name` to a callable; return undefined to get an inert PyGlobal. */
  findGlobal?(module: string, name: string): ((...args: unknown[]) => unknown) | undefined;
  /** Resolve a persistent id (PyTorch uses these for tensor storages). */
  persistentLoad?(pid: unknown): unknown;
}

const MARK = Symbol('mark');

export function unpickle(bytes: Uint8Array, hooks: PickleHooks = {}): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (pos + n > bytes.length) throw new PickleError(`pickle ends early at byte ${pos} (needed ${n} more)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const lo = view.getUint32(pos, true);
    const hi = view.getUint32(pos + 4, true);
    pos += 8;
    return hi * 2 ** 32 + lo;
  };
  const take = (n: number) => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = () => {
    const start = pos;
    while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    if (pos >= bytes.length) throw new PickleError('pickle ends inside a text line');
    return latin1.decode(bytes.subarray(start, pos++));
  };
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.slice(i + 1);
        stack.length = i;
        return items;
      }
    }
    throw new PickleError('pickle has no MARK where one is needed');
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleError('pickle stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError('pickle stack underflow');
    return stack[stack.length - 1];
  };
  const longFromBytes = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    // Beyond 2^1024 a Number is Infinity anyway; refusing keeps BigInt work linear and small.
    if (b.length > 128) throw new PickleError(`pickle holds an integer of ${b.length} bytes, larger than any value oreo reads`);
    let hex = '';
    for (let i = b.length - 1; i >= 0; i--) hex += b[i].toString(16).padStart(2, '0');
    let v = BigInt('0x' + hex);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };
  const resolve = (module: string, name: string): unknown => {
    const f = hooks.findGlobal?.(module, name);
    return f ?? new PyGlobal(module, name);
  };
  const call = (callable: unknown, args: unknown[]): unknown => {
    if (typeof callable === 'function') return callable(...args);
    if (callable instanceof PyGlobal) return new PyObject(callable.qualified, args);
    throw new PickleError(`pickle calls something that is not callable (${String(callable)})`);
  };
  const setItem = (target: unknown, k: unknown, v: unknown) => {
    if (target instanceof Map) target.set(k, v);
    else if (target instanceof PyObject) target.items.set(k, v);
    else throw new PickleError('pickle SETITEM on something that is not a dict');
  };
  const append = (target: unknown, items: unknown[]) => {
    // A loop, not push(...items): a pickle may append a million items at once.
    if (Array.isArray(target)) for (const x of items) target.push(x);
    else if (target instanceof PyObject) {
      const list = (target.items.get('__list__') as unknown[] | undefined) ?? [];
      for (const x of items) list.push(x);
      target.items.set('__list__', list);
    }
    else throw new PickleError('pickle APPEND on something that is not a list');
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x49: { // INT (text; "01"/"00" are bools)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : parseInt(s, 10));
        break;
      }
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4c: stack.push(parseInt(line().replace(/L$/, ''), 10)); break; // LONG
      case 0x8a: stack.push(longFromBytes(take(u8()))); break; // LONG1
      case 0x8b: stack.push(longFromBytes(take(u32()))); break; // LONG4
      case 0x46: stack.push(parseFloat(line())); break; // FLOAT
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x53: { // STRING (quoted repr)
        const s = line();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x54: stack.push(latin1.decode(take(u32()))); break; // BINSTRING
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x56: stack.push(line()); break; // UNICODE (raw-unicode-escape, ASCII in practice)
      case 0x58: stack.push(text.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text.decode(take(u64()))); break; // BINUNICODE8
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x29: stack.push(Object.freeze([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(Object.freeze(popMark())); break; // TUPLE
      case 0x85: stack.push(Object.freeze([pop()])); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push(Object.freeze([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(Object.freeze([a, b, c])); break; }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); const s = top() as Set<unknown>; items.forEach((x) => s.add(x)); break; }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop() as string;
        const module = pop() as string;
        stack.push(resolve(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop() as unknown[];
        const f = pop();
        stack.push(call(f, [...(args ?? [])]));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop() as unknown[];
        const cls = pop();
        stack.push(call(cls, [...(args ?? [])]));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop() as unknown[];
        const cls = pop();
        stack.push(call(cls, [...(args ?? [])]));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        else if (obj instanceof Map && state instanceof Map) for (const [k, v] of state) obj.set(k, v);
        // Tensors and other interpreted values ignore extra state.
        break;
      }
      case 0x70: memo.set(parseInt(line(), 10), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: stack.push(memoGet(memo, parseInt(line(), 10))); break; // GET
      case 0x68: stack.push(memoGet(memo, u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(memo, u32())); break; // LONG_BINGET
      case 0x50: stack.push(persistent(hooks, line())); break; // PERSID
      case 0x51: stack.push(persistent(hooks, pop())); break; // BINPERSID
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

function memoGet(memo: Map<number, unknown>, k: number): unknown {
  if (!memo.has(k)) throw new PickleError(`pickle refers to memo slot ${k}, which was never stored`);
  return memo.get(k);
}

function persistent(hooks: PickleHooks, pid: unknown): unknown {
  if (!hooks.persistentLoad) throw new PickleError('pickle holds external references but no loader was given');
  return hooks.persistentLoad(pid);
}

/** Most values a plain conversion may stand for, counting each use of a shared value again. */
export const PLAIN_MAX_VALUES = 1_000_000;
/** Deepest nesting a plain conversion follows (hyper-parameters nest a few levels). */
export const PLAIN_MAX_DEPTH = 200;

/**
 * Convert a PyDict with string keys (recursively) into a plain object, for hyper-parameters.
 * A value the pickle shares (memo → one object) converts once and stays shared. Because a plain
 * object is later written out as JSON, which expands sharing, the size it would expand to is
 * counted first and capped (`L=[L]*10` nine times is 10^10 values from a 425-byte pickle), and a
 * value that contains itself is refused: both are PickleErrors naming the path to the value.
 */
export function toPlain(v: unknown): unknown {
  const expanded = new Map<object, number>();
  const onPath = new Set<object>();
  // Pass 1: expanded size of every container, memoised so shared values cost one visit.
  const size = (x: unknown, path: string, depth: number): number => {
    if (typeof x !== 'object' || x === null || x instanceof Uint8Array) return 1;
    const known = expanded.get(x);
    if (known !== undefined) return known;
    if (onPath.has(x)) throw new PickleError(`the value at ${path} contains itself (a cyclic reference)`);
    if (depth > PLAIN_MAX_DEPTH) throw new PickleError(`values nest deeper than ${PLAIN_MAX_DEPTH} levels at ${path}`);
    onPath.add(x);
    let n = 1;
    for (const [k, c] of children(x)) {
      n += size(c, `${path}${k}`, depth + 1);
      if (n > PLAIN_MAX_VALUES) {
        throw new PickleError(`the value at ${path} expands to more than ${PLAIN_MAX_VALUES} values through shared references`);
      }
    }
    onPath.delete(x);
    expanded.set(x, n);
    return n;
  };
  size(v, 'top level', 0);
  // Pass 2: convert, each shared container once.
  const done = new Map<object, unknown>();
  const conv = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x;
    const seen = done.get(x);
    if (seen !== undefined) return seen;
    let out: unknown = x;
    if (x instanceof Map) {
      const o: Record<string, unknown> = {};
      done.set(x, o);
      for (const [k, c] of x) o[keyText(k)] = conv(c);
      out = o;
    } else if (x instanceof PyObject) {
      // dict subclasses (Lightning's AttributeDict) keep items; plain objects keep __dict__ state.
      const o: Record<string, unknown> = {};
      done.set(x, o);
      if (x.state instanceof Map) Object.assign(o, conv(x.state) as object);
      for (const [k, c] of x.items) o[keyText(k)] = conv(c);
      out = o;
    } else if (Array.isArray(x)) {
      const a: unknown[] = [];
      done.set(x, a);
      for (const c of x) a.push(conv(c));
      out = a;
    }
    done.set(x, out);
    return out;
  };
  return conv(v);
}

/**
 * A dict key as text. Keys oreo reads are strings or numbers; a tuple key (legal in Python) is
 * not stringified, since a shared nested tuple would expand just like a value.
 */
function keyText(k: unknown): string {
  return typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || k === null ? String(k) : `<${Array.isArray(k) ? 'tuple' : typeof k} key>`;
}

function children(x: object): Iterable<[string, unknown]> {
  if (x instanceof Map) return [...x].map(([k, c]) => [`.${keyText(k)}`, c] as [string, unknown]);
  if (x instanceof PyObject) {
    const out: [string, unknown][] = [];
    if (x.state !== undefined) out.push(['.__dict__', x.state]);
    for (const [k, c] of x.items) out.push([`.${keyText(k)}`, c]);
    for (let i = 0; i < x.args.length; i++) out.push([`(${i})`, x.args[i]]);
    return out;
  }
  if (Array.isArray(x)) return x.map((c, i) => [`[${i}]`, c] as [string, unknown]);
  if (x instanceof Set) return [...x].map((c, i) => [`{${i}}`, c] as [string, unknown]);
  return [];
}
