/**
 * Jest runner for mutation runs only (jest.mutation.config.js, npm run mutate).
 *
 * Stryker runs a mutant's covering tests by name (`testNamePattern`), but Jest still loads every
 * test file to find them, and loading one costs about 0.3 s here (cdk8s, cdk8s-plus, zod and the
 * library are evaluated again per file): 30 files are 9 s per mutant before any test runs. And Jest
 * has no bail a program can ask for, so a mutant the first test kills still runs every other one.
 *
 * This runner records, during Stryker's first full run (no active mutant, no name filter), which
 * file holds each test and how long the file took. In the run for one mutant it then
 * - hands Jest only the files that hold a test the filter names (the same tests run), and
 * - runs those files one at a time, quickest first, and stops after the first file with a failing
 *   test: the mutant is killed, and Stryker (without `disableBail`) needs no more.
 * A mutant that survives still runs every covering test. If a filtered name is not in the record,
 * or Stryker asks for every test, every file runs as Jest would run them.
 */
const fs = require('fs');
const path = require('path');
const JestRunner = require('jest-runner').default;

const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';

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
    try {
      for (const test of files) {
        await super.runTests([test], watcher, { ...options, serial: true });
        if (failed || watcher.isInterrupted()) {
          break;
        }
      }
    } finally {
      off.forEach(o => o());
    }
  }

  async recordWhileRunning(tests, watcher, options) {
    const index = {};
    const off = this.on('test-file-success', ([test, result]) => {
      index[test.path] = { ms: result.perfStats.runtime ?? 0, tests: result.testResults.map(r => r.fullName) };
    });
    try {
      return await super.runTests(tests, watcher, options);
    } finally {
      off();
      fs.writeFileSync(this.indexFile(), JSON.stringify(index));
    }
  }

  /** The files holding a test the pattern names, quickest first; undefined when the record cannot tell. */
  filesHolding(tests, pattern) {
    let index;
    try {
      index = JSON.parse(fs.readFileSync(this.indexFile(), 'utf8'));
    } catch {
      return undefined;
    }
    if (tests.some(t => index[t.path] === undefined)) {
      return undefined;
    }
    // Jest matches testNamePattern case-insensitively against the full name.
    const re = new RegExp(pattern, 'i');
    const kept = tests.filter(t => index[t.path].tests.some(name => re.test(name)));
    if (kept.length === 0) {
      return undefined;
    }
    return kept.sort((a, b) => index[a.path].ms - index[b.path].ms || (a.path < b.path ? -1 : 1));
  }
}

module.exports = MutationRunner;
