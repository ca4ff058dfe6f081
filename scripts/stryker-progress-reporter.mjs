/**
 * A Stryker reporter for long mutation runs (npm run mutate): it appends one JSON line per tested
 * mutant to reports/mutation/progress.jsonl as the run goes, so survivors can be read, and tests
 * written for them, while the run is still going, and a run stopped halfway still leaves what it
 * found. `node scripts/mutation-summary.mjs` prints the score per file from that file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

const OUT = path.join('reports', 'mutation', 'progress.jsonl');

class ProgressFileReporter {
  constructor() {
    this.file = path.resolve(OUT);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, '');
  }

  onMutantTested(m) {
    const line = {
      file: path.relative(process.cwd(), m.fileName),
      line: m.location.start.line,
      column: m.location.start.column,
      mutator: m.mutatorName,
      replacement: m.replacement,
      status: m.status,
      killedBy: m.killedBy?.[0],
    };
    fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'progress-file', ProgressFileReporter)];
