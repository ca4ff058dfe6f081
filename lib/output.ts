import * as fs from 'fs';
import * as path from 'path';

/** Relative path -> file content. */
export type FileSet = ReadonlyMap<string, string>;

function writeAll(dir: string, files: FileSet): void {
  for (const [rel, content] of files) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/**
 * Replaces `target` with a folder holding exactly `files`. The new folder is written in
 * full beside the target first and then renamed into place, so a failure while writing
 * leaves the previous folder as it was.
 */
export function replaceDirectory(target: string, files: FileSet): void {
  const absolute = path.resolve(target);
  const parent = path.dirname(absolute);
  const base = path.basename(absolute);
  fs.mkdirSync(parent, { recursive: true });
  const fresh = fs.mkdtempSync(path.join(parent, `.${base}-new-`));
  try {
    writeAll(fresh, files);
  } catch (e) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw e;
  }
  if (!fs.existsSync(absolute)) {
    fs.renameSync(fresh, absolute);
    return;
  }
  const old = `${path.join(parent, `.${base}-old-`)}${process.pid}-${Date.now()}`;
  fs.renameSync(absolute, old);
  fs.renameSync(fresh, absolute);
  fs.rmSync(old, { recursive: true, force: true });
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
