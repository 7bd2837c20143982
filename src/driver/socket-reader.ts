/**
 * Exact-length reads from a stream socket. The i-PI protocol has no framing beyond fixed sizes,
 * and TCP or a unix socket may deliver a message in any number of pieces (or several messages in
 * one), so the driver asks for n bytes and gets exactly n, or learns that the peer has gone.
 */
import type { Socket } from 'node:net';

/** The peer closed the connection (EOF) or reset it; `partial` bytes of the current read had arrived. */
export class SocketClosedError extends Error {
  constructor(
    readonly partial: number,
    readonly code?: string,
  ) {
    super(code ? `connection lost (${code})` : 'connection closed by the peer');
    this.name = 'SocketClosedError';
  }
}

export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private closed: SocketClosedError | null = null;
  private failure: Error | null = null;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.settle();
    });
    socket.on('end', () => this.close());
    socket.on('close', () => this.close());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset or a broken pipe is the peer going away, like EOF; anything else is a failure.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.close(err.code);
      else {
        this.failure = err;
        this.settle();
      }
    });
  }

  /** Bytes received and not yet read. */
  get pending(): number {
    return this.buffered;
  }

  /** Exactly n bytes; rejects with SocketClosedError when the peer goes away first. */
  read(n: number): Promise<Buffer> {
    if (this.waiting) return Promise.reject(new Error('SocketReader: one read at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.settle();
    });
  }

  private close(code?: string): void {
    this.closed ??= new SocketClosedError(0, code);
    this.settle();
  }

  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.buffered >= w.n) {
      this.waiting = null;
      w.resolve(this.take(w.n));
    } else if (this.failure) {
      this.waiting = null;
      w.reject(this.failure);
    } else if (this.closed) {
      this.waiting = null;
      w.reject(new SocketClosedError(this.buffered, this.closed.code));
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    let whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = whole.subarray(0, n);
    whole = whole.subarray(n);
    this.chunks = whole.length ? [whole] : [];
    this.buffered = whole.length;
    return out;
  }
}
