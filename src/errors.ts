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

/** An error about one input file, optionally about one record and field inside it. */
export class InputError extends OreoError {
  constructor(
    readonly file: string,
    detail: string,
    readonly record?: number | string,
    readonly field?: string,
  ) {
    const where = [file, record !== undefined ? `record ${record}` : '', field ? `field '${field}'` : '']
      .filter(Boolean)
      .join(', ');
    super(`${where}: ${detail}`);
    this.name = 'InputError';
  }
}

export function fail(message: string): never {
  throw new OreoError(message);
}
