/**
 * A bounded zip reader for the archives oreo opens (PyTorch checkpoints, NumPy .npz): it lists
 * the members from the central directory without inflating anything, checks every size a member
 * declares against what the file can really hold, and inflates a member only when asked, whole
 * or as a stream, refusing one that inflates to more than it declared.
 *
 * Why not unzip everything: a 1.5 MB archive of zeros inflates to 1.6 GB, and a member that lies
 * about its size inflates to whatever it likes. Deflate cannot expand by more than 1032:1, so a
 * declared size beyond that is a lie; below it, the caller's budget decides (`maxInflated`).
 * Runs in Node and in the browser (fflate's streaming inflater, no node: imports).
 */
import { Inflate } from 'fflate';
import { InputError } from '../errors.js';

/** Deflate's largest possible expansion (258-byte matches coded in about 2 bits each). */
export const DEFLATE_MAX_RATIO = 1032;

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** Declared inflated size. */
  size: number;
  /** Offset of the member's data (after its local header) in the archive. */
  dataStart: number;
}

export interface ZipOptions {
  /** Most bytes that whole reads of deflated members may inflate to, in total (default 256 MiB). */
  maxInflated?: number;
}

const MiB = 1024 * 1024;
/** Input fed to the inflater per step: bounds one step's output to 1032 × this. */
const STEP = 4096;

export class ZipArchive {
  readonly members = new Map<string, ZipMember>();
  private inflated = 0;
  private readonly maxInflated: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    options: ZipOptions = {},
  ) {
    this.maxInflated = options.maxInflated ?? 256 * MiB;
    this.readDirectory();
  }

  private fail(detail: string, member?: string): never {
    throw new InputError(this.file, `damaged or hostile zip archive: ${detail}`, member);
  }

  private readDirectory(): void {
    const b = this.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const u16 = (o: number) => (o + 2 <= b.length ? dv.getUint16(o, true) : this.fail(`directory runs past the end of the file (byte ${o})`));
    const u32 = (o: number) => (o + 4 <= b.length ? dv.getUint32(o, true) : this.fail(`directory runs past the end of the file (byte ${o})`));
    const u64 = (o: number) => {
      const v = u32(o) + u32(o + 4) * 2 ** 32;
      return v;
    };
    // End of central directory: the last 0x06054b50 within the final 64 KiB + 22 bytes.
    let eocd = -1;
    for (let e = b.length - 22; e >= 0 && b.length - e <= 65557 + 22; e--) {
      if (dv.getUint32(e, true) === 0x06054b50) {
        eocd = e;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-directory record (truncated, or not a zip file)');
    let count = u16(eocd + 10);
    let dirSize = u32(eocd + 12);
    let dirStart = u32(eocd + 16);
    if (eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
      const z64 = u64(eocd - 12);
      if (z64 + 56 > b.length || u32(z64) !== 0x06064b50) this.fail('broken zip64 end-of-directory record');
      count = u64(z64 + 32);
      dirSize = u64(z64 + 40);
      dirStart = u64(z64 + 48);
    }
    if (dirStart + dirSize > b.length) this.fail(`directory claims bytes ${dirStart}–${dirStart + dirSize}, but the file has ${b.length}`);
    // Each directory entry takes at least 46 bytes: a count beyond that is a lie.
    if (count * 46 > dirSize) this.fail(`directory claims ${count} members in ${dirSize} bytes`);
    let o = dirStart;
    const decoder = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (u32(o) !== 0x02014b50) this.fail(`directory entry ${i} has a bad signature`);
      const method = u16(o + 10);
      let compressedSize = u32(o + 20);
      let size = u32(o + 24);
      const nameLen = u16(o + 28);
      const extraLen = u16(o + 30);
      const commentLen = u16(o + 32);
      let local = u32(o + 42);
      if (o + 46 + nameLen + extraLen + commentLen > dirStart + dirSize) this.fail(`directory entry ${i} runs past the directory`);
      const name = decoder.decode(b.subarray(o + 46, o + 46 + nameLen));
      // zip64 extra field: the 64-bit values, in order, for each 32-bit field that is 0xFFFFFFFF.
      for (let x = o + 46 + nameLen; x + 4 <= o + 46 + nameLen + extraLen; ) {
        const id = u16(x);
        const len = u16(x + 2);
        if (id === 0x0001) {
          let p = x + 4;
          if (size === 0xffffffff) (size = u64(p)), (p += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(p)), (p += 8);
          if (local === 0xffffffff) local = u64(p);
        }
        x += 4 + len;
      }
      o += 46 + nameLen + extraLen + commentLen;
      if (u32(local) !== 0x04034b50) this.fail('local header has a bad signature', name);
      const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
      if (dataStart + compressedSize > b.length) {
        this.fail(`member data (${compressedSize} bytes at byte ${dataStart}) runs past the end of the file (${b.length} bytes): truncated?`, name);
      }
      if (method === 0 && size !== compressedSize) this.fail(`stored member declares ${size} bytes but holds ${compressedSize}`, name);
      if (method === 8 && size > DEFLATE_MAX_RATIO * compressedSize + 64) {
        this.fail(`member declares ${size} bytes inflated from ${compressedSize}, more than deflate can expand (1032:1)`, name);
      }
      if (method !== 0 && method !== 8) this.fail(`compression method ${method} is not supported (only stored and deflate)`, name);
      this.members.set(name, { name, method, compressedSize, size, dataStart });
    }
  }

  names(): string[] {
    return [...this.members.keys()];
  }

  member(name: string): ZipMember | undefined {
    return this.members.get(name);
  }

  /** A member's whole content. A deflated member counts against the archive's inflate budget. */
  read(name: string): Uint8Array {
    const m = this.members.get(name);
    if (!m) throw new InputError(this.file, 'member missing from the archive', name);
    if (m.method === 0) return this.bytes.subarray(m.dataStart, m.dataStart + m.size);
    if (this.inflated + m.size > this.maxInflated) {
      throw new InputError(
        this.file,
        `inflating this member (${m.size} bytes from ${m.compressedSize}) would take the archive past ${Math.round(this.maxInflated / MiB)} MiB inflated; oreo refuses such archives (zip bomb?)`,
        name,
      );
    }
    this.inflated += m.size;
    const out = new Uint8Array(m.size);
    let at = 0;
    for (const chunk of this.chunks(name)) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /**
   * A member's inflated bytes in order, one step at a time: memory is one step's output (at most
   * 1032 × 4 KiB), not the member, so a few rows of a huge array cost what they hold. Inflating
   * to more than the declared size, or to less by the end, is an InputError.
   */
  *chunks(name: string): Generator<Uint8Array> {
    const m = this.members.get(name);
    if (!m) throw new InputError(this.file, 'member missing from the archive', name);
    const data = this.bytes.subarray(m.dataStart, m.dataStart + m.compressedSize);
    if (m.method === 0) {
      for (let o = 0; o < data.length; o += 1 << 20) yield data.subarray(o, Math.min(data.length, o + (1 << 20)));
      return;
    }
    let total = 0;
    let ended = false;
    const queue: Uint8Array[] = [];
    const inflater = new Inflate((chunk, final) => {
      total += chunk.length;
      if (total > m.size) this.fail(`member inflates to more than the ${m.size} bytes it declares`, name);
      if (chunk.length > 0) queue.push(chunk);
      if (final) ended = true;
    });
    for (let o = 0; o < data.length; o += STEP) {
      try {
        inflater.push(data.subarray(o, Math.min(data.length, o + STEP)), o + STEP >= data.length);
      } catch (e) {
        if (e instanceof InputError) throw e;
        this.fail(`member does not inflate (${(e as Error).message})`, name);
      }
      while (queue.length > 0) yield queue.shift()!;
    }
    if (!ended || total !== m.size) this.fail(`member inflates to ${total} bytes, not the ${m.size} it declares`, name);
  }
}

/** Zip archives start with a local header ("PK\x03\x04") or, when empty, an end record ("PK\x05\x06"). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b;
}
