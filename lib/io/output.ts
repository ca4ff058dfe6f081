import * as fs from 'fs';
import * as path from 'path';

/** Relative path -> file content. */
export type FileSet = ReadonlyMap<string, string>;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Fault-injection seam for the kill tests: a pause after every file widens the window a kill can hit. */
const WRITE_DELAY_MS = Number(process.env.CDK8S_PORTS_TEST_WRITE_DELAY_MS ?? 0);

function writeAll(dir: string, files: FileSet): void {
  for (const [rel, content] of files) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    if (WRITE_DELAY_MS > 0) sleep(WRITE_DELAY_MS);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock beside `target` (`.<name>.lock`, holding the owner's pid), so that two
 * synths never swap folders at the same time. A lock whose process is gone is taken over.
 */
function withLock<T>(target: string, f: () => T, timeoutMs = 60_000): T {
  const lock = path.join(path.dirname(target), `.${path.basename(target)}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let text = '';
      let age = 0;
      try {
        text = fs.readFileSync(lock, 'utf8').trim();
        age = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      const owner = /^[1-9][0-9]*$/.test(text) ? Number(text) : 0;
      // A lock without a pid was left by a process killed between creating and writing it (a window
      // of microseconds): once it is a second old, nobody is going to write it.
      if ((owner && !alive(owner)) || (!owner && age > 1000)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by process ${owner}; remove it if no synth is running`);
      sleep(20);
    }
  }
  try {
    return f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/**
 * Finishes a swap that a killed process left half done: the new folder is complete before
 * the swap begins, so whichever complete folder is there is put back in place, and leftovers
 * are removed.
 */
export function recoverInterruptedSwap(target: string): void {
  const absolute = path.resolve(target);
  const parent = path.dirname(absolute);
  const base = path.basename(absolute);
  if (!fs.existsSync(parent)) return;
  const leftovers = fs.readdirSync(parent).filter(n => n.startsWith(`.${base}-old-`) || n.startsWith(`.${base}-new-`));
  if (leftovers.length === 0) return;
  if (!fs.existsSync(absolute)) {
    // Killed between the two renames: the previous output is the newest complete one.
    const old = leftovers.filter(n => n.startsWith(`.${base}-old-`)).sort().pop();
    if (old) fs.renameSync(path.join(parent, old), absolute);
  }
  for (const n of leftovers) {
    const p = path.join(parent, n);
    if (fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
  }
}

/** Recovers from a killed swap, under the lock (safe while another synth runs). */
export function recover(target: string): void {
  const absolute = path.resolve(target);
  if (!fs.existsSync(path.dirname(absolute))) return;
  withLock(absolute, () => recoverInterruptedSwap(absolute));
}

/**
 * The list of the files a synth wrote, kept in the output folder (`.cdk8s-ports-written.json`):
 * what the next synth may replace. Anything else in the folder was put there by someone else.
 */
export const WRITTEN_LIST = '.cdk8s-ports-written.json';

/** The text of the list of written files. */
export function writtenList(files: Iterable<string>): string {
  return `${JSON.stringify({ generatedBy: 'cdk8s-ports', files: [...files].filter(f => f !== WRITTEN_LIST).sort() }, null, 2)}\n`;
}

/** The files a folder's list says a synth wrote; undefined when there is no list (or it cannot be read). */
export function readWrittenList(dir: string): Set<string> | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(path.join(dir, WRITTEN_LIST), 'utf8')) as { files?: unknown };
    return Array.isArray(data.files) ? new Set(data.files.filter((f): f is string => typeof f === 'string')) : undefined;
  } catch {
    return undefined;
  }
}

/** Every file and link under `dir`, relative, with `/` separators. */
function filesUnder(dir: string, rel = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(path.join(dir, e.name), r) : [r];
  });
}

/**
 * The files of `dir` that the synth did not write and will not write now: kept across synths. A
 * folder without a list of written files is an older synth's output, replaced as a whole; a list
 * that cannot be read keeps everything the synth does not write now (nothing hand-made is lost).
 */
function notWritten(dir: string, files: FileSet): string[] {
  if (!fs.existsSync(path.join(dir, WRITTEN_LIST))) return [];
  const previous = readWrittenList(dir) ?? new Set<string>();
  return filesUnder(dir).filter(f => f !== WRITTEN_LIST && !files.has(f) && !previous.has(f));
}

/**
 * Replaces `target` with a folder holding `files`, and, when `files` holds the list of written
 * files, also every file the previous synth did not write (a hand-added NOTES.md or policy): those
 * are copied over as they are (links as links) and returned. The new folder is written in
 * full beside the target first and then renamed into place, under a lock, so a failure or a
 * kill while writing leaves the previous folder as it was, and two synths never interleave.
 */
export function replaceDirectory(target: string, files: FileSet): string[] {
  const absolute = path.resolve(target);
  const parent = path.dirname(absolute);
  const base = path.basename(absolute);
  fs.mkdirSync(parent, { recursive: true });
  return withLock(absolute, () => {
    recoverInterruptedSwap(absolute);
    const kept = files.has(WRITTEN_LIST) ? notWritten(absolute, files) : [];
    const fresh = fs.mkdtempSync(path.join(parent, `.${base}-new-`));
    // mkdtemp makes the folder 0700: keep the previous folder's mode, else what mkdir would give.
    fs.chmodSync(fresh, fs.existsSync(absolute) ? fs.statSync(absolute).mode & 0o7777 : 0o777 & ~process.umask());
    try {
      writeAll(fresh, files);
      for (const rel of kept) {
        const from = path.join(absolute, rel);
        const to = path.join(fresh, rel);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        if (fs.lstatSync(from).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
        else fs.copyFileSync(from, to);
      }
    } catch (e) {
      fs.rmSync(fresh, { recursive: true, force: true });
      throw e;
    }
    if (!fs.existsSync(absolute)) {
      fs.renameSync(fresh, absolute);
      return kept;
    }
    const old = `${path.join(parent, `.${base}-old-`)}${String(Date.now()).padStart(15, '0')}-${process.pid}`;
    fs.renameSync(absolute, old);
    fs.renameSync(fresh, absolute);
    fs.rmSync(old, { recursive: true, force: true });
    return kept;
  });
}

/** Writes `files` into `dir`, leaving other files there alone (the cdk8s CLI's staging folder). */
export function writeFiles(dir: string, files: FileSet): void {
  writeAll(dir, files);
}

/** Writes one file by rename, so readers never see half of it. Returns false when the content was already there. */
export function writeFileAtomic(file: string, content: string): boolean {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return false;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
  return true;
}

/**
 * A registry's output folder, normalised and kept inside the manifests folder: `./team/` and `team`
 * are one folder; an absolute path, or one that climbs out with `..`, is refused.
 */
export function normalizeOutputDir(dir: string): { readonly dir?: string; readonly problem?: string } {
  if (dir.includes('\0')) return { problem: 'contains a NUL character' };
  const slashed = dir.replace(/\\/g, '/');
  if (path.posix.isAbsolute(slashed) || /^[A-Za-z]:/.test(slashed)) return { problem: 'is absolute: output folders are relative to the manifests folder' };
  const normal = path.posix.normalize(slashed).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return { problem: 'leads out of the manifests folder' };
  return { dir: normal === '.' ? '' : normal };
}
