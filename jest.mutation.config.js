/**
 * The tests a mutation run (npm run mutate) uses: every test that exercises the core in-process.
 * Left out: the packed-tarball consumer test, the typedoc and Chromium tests (they test packaging,
 * docs and pictures, not a port or a finding, and take minutes per run).
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  reporters: ['default'],
  // Loads only the test files that hold a mutant's covering tests (see the file).
  runner: '<rootDir>/test/support/mutation-runner.js',
  testPathIgnorePatterns: ['/node_modules/', '/test/package\\.test\\.ts$', '/test/api-docs\\.test\\.ts$', '/test/docs\\.test\\.ts$', '/test/traffic-svg\\.test\\.ts$'],
};
