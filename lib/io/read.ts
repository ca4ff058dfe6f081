/**
 * Bounded reads: every file the tool reads (registries, bases, lock files, compose files, the
 * committed manifests) is checked before a byte is read. A FIFO, a device (/dev/zero), a folder
 * or a file larger than the limit is refused with a clear message instead of a hang, a memory
 * blow-up or a stack trace.
 */
import * as fs from 'fs';

/** The default limit: far above any real registry, far below what would exhaust memory. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Why a file could not be read, for a message: `does not exist`, `is a folder` … */
export class ReadError extends Error {
  constructor(public readonly file: string, public readonly reason: string, public readonly code?: string) {
    super(`${file} ${reason}`);
    this.name = 'ReadError';
  }
}

/** The text of a regular file of at most `maxBytes` bytes; throws {@link ReadError} otherwise. */
export function readRegularFile(file: string, maxBytes = MAX_READ_BYTES): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
      : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? (e as Error).message})`;
    throw new ReadError(file, reason, code);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new ReadError(file, 'is a folder, not a file', 'EISDIR');
    if (!stat.isFile()) throw new ReadError(file, `is not a regular file (a ${stat.isFIFO() ? 'FIFO' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'device' : stat.isSocket() ? 'socket' : 'special file'})`, 'ENOTREG');
    if (stat.size > maxBytes) throw new ReadError(file, `is ${stat.size} bytes; the limit is ${maxBytes}`, 'EFBIG');
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = fs.readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
