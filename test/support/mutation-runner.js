/**
 * Jest runner for mutation runs only (jest.mutation.config.js, npm run mutate).
 *
 * Stryker runs a mutant's covering tests by name (`testNamePattern`), but Jest still loads every
 * test file to find them, and loading one costs about 0.3 s here (cdk8s, cdk8s-plus, zod and the
 * library are evaluated again per file): 30 files are 9 s per mutant before any test runs. And Jest
 * has no bail a program can ask for, so a mutant the first test kills still runs every other one.
 *
 * This runner records, during Stryker's first full run (no active mutant, no name filter), which
 * file holds each test and how long each test took. In the run for one mutant it then
 * - hands Jest only the files that hold a test the filter names (the same tests run), and
 * - runs those files one at a time and stops after the first file with a failing test: the mutant
 *   is killed, and Stryker (without `disableBail`) needs no more. Cheap files come first: the cost
 *   of a file is the selected tests' time plus what loading it costs, divided by one plus the
 *   number of mutants it killed before in this process (neighbouring mutants tend to fall to the
 *   same tests).
 * A mutant that survives still runs every covering test. If a filtered name is not in the record,
 * or Stryker asks for every test, every file runs as Jest would run them.
 * MUTATION_RUNNER_LOG=<file> appends, per mutant, the files run and their times.
 */
const fs = require('fs');
const path = require('path');
const JestRunner = require('jest-runner').default;

const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';
/** What loading one test file costs before its tests run (measured: about 0.3 s). */
const LOAD_MS = 300;
/** Per test file, how many mutants it killed in this process (Jest keeps this module loaded between runs). */
const kills = new Map();
/** The record of the first full run, read once per process (it is written once, before any mutant runs). */
let record;

class MutationRunner extends JestRunner {
  constructor(globalConfig, context) {
    super(globalConfig, context);
    this.globalConfig = globalConfig;
  }

  indexFile() {
    return path.join(this.globalConfig.rootDir, '.mutation-test-index.json');
  }

  async runTests(tests, watcher, options) {
    const pattern = this.globalConfig.testNamePattern;
    if (process.env[ACTIVE_MUTANT] === undefined && !pattern) {
      return this.recordWhileRunning(tests, watcher, options);
    }
    const files = pattern ? this.filesHolding(tests, pattern) : undefined;
    if (!files) {
      return super.runTests(tests, watcher, options);
    }
    let failed = false;
    const off = [
      this.on('test-file-success', ([, result]) => { failed ||= result.numFailingTests > 0 || Boolean(result.testExecError); }),
      this.on('test-file-failure', () => { failed = true; }),
    ];
    const log = process.env.MUTATION_RUNNER_LOG ? [] : undefined;
    try {
      for (const test of files) {
        const start = Date.now();
        await super.runTests([test], watcher, { ...options, serial: true });
        log?.push(`${path.basename(test.path)} ${Date.now() - start}ms${failed ? ' failed' : ''}`);
        if (failed) {
          kills.set(test.path, (kills.get(test.path) ?? 0) + 1);
          break;
        }
        if (watcher.isInterrupted()) {
          break;
        }
      }
    } finally {
      off.forEach(o => o());
      if (log) fs.appendFileSync(process.env.MUTATION_RUNNER_LOG, `${process.env[ACTIVE_MUTANT]} of ${files.length}: ${log.join(', ')}\n`);
    }
  }

  async recordWhileRunning(tests, watcher, options) {
    const index = {};
    const off = this.on('test-file-success', ([test, result]) => {
      index[test.path] = result.testResults.map(r => [r.fullName, r.duration ?? 0]);
    });
    try {
      return await super.runTests(tests, watcher, options);
    } finally {
      off();
      fs.writeFileSync(this.indexFile(), JSON.stringify(index));
    }
  }

  /** The files holding a test the pattern names, in the order to run them; undefined when the record cannot tell. */
  filesHolding(tests, pattern) {
    if (!record) {
      try {
        record = JSON.parse(fs.readFileSync(this.indexFile(), 'utf8'));
      } catch {
        return undefined;
      }
    }
    const index = record;
    if (tests.some(t => index[t.path] === undefined)) {
      return undefined;
    }
    // Jest matches testNamePattern case-insensitively against the full name.
    const re = new RegExp(pattern, 'i');
    const cost = new Map();
    for (const t of tests) {
      let ms = 0;
      let selected = false;
      for (const [name, duration] of index[t.path]) {
        if (re.test(name)) {
          selected = true;
          ms += duration;
        }
      }
      if (selected) cost.set(t, LOAD_MS + ms);
    }
    if (cost.size === 0) {
      return undefined;
    }
    const rank = t => cost.get(t) / (1 + (kills.get(t.path) ?? 0));
    return [...cost.keys()].sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : 1));
  }
}

module.exports = MutationRunner;
