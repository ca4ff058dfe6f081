/**
 * Merges the incremental state of a partial mutation run into the whole-core state:
 *
 *   node scripts/mutation-state-merge.mjs reports/stryker-incremental.json <partial.json> [out.json]
 *
 * A run with `--mutate <some files>` writes a state holding those files only; run it with
 * `--incrementalFile <partial.json>` and merge it back here, so that the committed state keeps
 * every file of the core. The files of the partial state replace the base's; tests are matched by
 * file and name (their ids differ from run to run) and renumbered. `out` defaults to the base.
 */
import fs from 'node:fs';

const [baseFile, partialFile, outFile = baseFile] = process.argv.slice(2);
if (!baseFile || !partialFile) {
  console.error('usage: node scripts/mutation-state-merge.mjs <base state> <partial state> [out]');
  process.exit(2);
}
const base = JSON.parse(fs.readFileSync(baseFile, 'utf8'));
const partial = JSON.parse(fs.readFileSync(partialFile, 'utf8'));

// Test ids of each report -> "file\0name"; the merged report numbers the union afresh.
const keysOf = report => {
  const byId = new Map();
  for (const [file, t] of Object.entries(report.testFiles ?? {})) for (const test of t.tests) byId.set(test.id, `${file}\u0000${test.name}`);
  return byId;
};
const baseKeys = keysOf(base);
const partialKeys = keysOf(partial);
const testFiles = {};
const idOf = new Map();
// The partial run's test files are the newer ones: they win, the base adds what the partial did not load.
for (const report of [partial, base]) {
  for (const [file, t] of Object.entries(report.testFiles ?? {})) {
    if (testFiles[file]) continue;
    testFiles[file] = { ...t, tests: t.tests.map(test => {
      const key = `${file}\u0000${test.name}`;
      if (!idOf.has(key)) idOf.set(key, String(idOf.size));
      return { ...test, id: idOf.get(key) };
    }) };
  }
}
const remap = (ids, keys) => (ids ?? []).map(id => idOf.get(keys.get(id))).filter(id => id !== undefined);
const files = {};
for (const [report, keys] of [[base, baseKeys], [partial, partialKeys]]) {
  for (const [file, f] of Object.entries(report.files)) {
    files[file] = { ...f, mutants: f.mutants.map(m => ({
      ...m,
      ...(m.coveredBy ? { coveredBy: remap(m.coveredBy, keys) } : {}),
      ...(m.killedBy ? { killedBy: remap(m.killedBy, keys) } : {}),
    })) };
  }
}
fs.writeFileSync(outFile, JSON.stringify({ ...base, files, testFiles }));
const count = Object.values(files).reduce((n, f) => n + f.mutants.length, 0);
console.log(`${outFile}: ${Object.keys(files).length} files (${Object.keys(partial.files).length} from ${partialFile}), ${count} mutants, ${idOf.size} tests`);
