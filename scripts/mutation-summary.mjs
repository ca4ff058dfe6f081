/**
 * The mutation score per file from reports/mutation/progress.jsonl (written by the progress-file
 * reporter while `npm run mutate` runs), or from a report or incremental state given as a `.json`
 * file (`node scripts/mutation-summary.mjs reports/stryker-incremental.json`), and the surviving
 * mutants with their place.
 * Score = (killed + timed out) / (killed + timed out + survived + no coverage), as Stryker counts it.
 */
import fs from 'node:fs';

const file = process.argv.slice(2).find(a => !a.startsWith('--')) ?? 'reports/mutation/progress.jsonl';
// A report (reports/mutation/mutation.json, or the incremental state) or the progress file of a run.
const rows = file.endsWith('.json')
  ? Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')).files).flatMap(([name, f]) => f.mutants.map(m => ({
    file: name, line: m.location.start.line, column: m.location.start.column, mutator: m.mutatorName, replacement: m.replacement, status: m.status,
  })))
  : fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
const perFile = new Map();
for (const r of rows) {
  const s = perFile.get(r.file) ?? { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
  if (r.status in s) s[r.status]++; else s.other++;
  perFile.set(r.file, s);
}
const score = s => {
  const detected = s.Killed + s.Timeout;
  const valid = detected + s.Survived + s.NoCoverage;
  return valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)}%`;
};
const total = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
for (const [name, s] of [...perFile].sort()) {
  for (const k of Object.keys(total)) total[k] += s[k];
  console.log(`${score(s).padStart(6)}  ${name}  killed ${s.Killed}, timeout ${s.Timeout}, survived ${s.Survived}, no coverage ${s.NoCoverage}, not run ${s.other}`);
}
console.log(`${score(total).padStart(6)}  all ${rows.length} mutants tested so far`);
if (process.argv.includes('--survivors')) {
  for (const r of rows.filter(r => r.status === 'Survived' || r.status === 'NoCoverage')) {
    console.log(`${r.status === 'Survived' ? 'survived' : 'no cover'}  ${r.file}:${r.line}:${r.column}  ${r.mutator}  ${JSON.stringify(r.replacement)}`);
  }
}
