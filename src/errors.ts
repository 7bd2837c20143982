/**
 * Errors meant for a person: say which file, which record, which field, and what was expected.
 * The CLI prints `message` alone (no stack) unless --debug / OREO_DEBUG=1 is set.
 */
export class OreoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OreoError';
  }
}

/**
 * The one error type that carries where: a file, optionally one record and one field inside it.
 * Its message starts with them ("data.xyz, record 3, field 'forces': …").
 */
export class FileError extends OreoError {
  constructor(
    readonly file: string,
    detail: string,
    readonly record?: number | string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    const where = [file, record !== undefined ? `record ${record}` : '', field ? `field '${field}'` : '']
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${detail}`, options);
    this.name = 'FileError';
  }
}

/** An error about one input file, optionally about one record and field inside it. */
export class InputError extends FileError {
  constructor(file: string, detail: string, record?: number | string, field?: string) {
    super(file, detail, record, field);
    this.name = 'InputError';
  }
}

/** A file oreo could not write (disk full, read-only, no permission), naming it. */
export class OutputError extends FileError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(file, detail, undefined, undefined, options);
    this.name = 'OutputError';
  }
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EIO: 'input/output error of the device',
  EMFILE: 'too many open files',
  EFBIG: 'file too large for the file system',
};

/** A Node file-system error (err.code, err.syscall, maybe err.path) in words, or undefined. */
export function describeSystemError(err: unknown): { path?: string; text: string } | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  const words = SYSTEM_ERRORS[e.code] ?? e.code;
  return { path: typeof e.path === 'string' ? e.path : undefined, text: `cannot ${e.syscall} (${e.code}: ${words})` };
}

/** Rethrow a file-system error from writing `path` as an OutputError naming it. */
export function writeFailed(path: string, err: unknown): never {
  const d = describeSystemError(err);
  if (!d) throw err;
  throw new OutputError(path, `cannot write ${d.text.replace(/^cannot \w+ /, '')}`, { cause: err });
}

export function fail(message: string): never {
  throw new OreoError(message);
}
