#!/usr/bin/env node
// The operator CLI. Runs the compiled JavaScript in build/ (npm install builds it).
let main;
try {
  ({ main } = require('../build/lib/cli/main.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('cdk8s-ports: build/ is missing; run `npm run build` (npm install runs it for you)\n');
    process.exit(2);
  }
  throw e;
}
// A reader that closes the pipe early (`cdk8s-ports check | head`) ends the output, not the process with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', e => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
process.exitCode = main(process.argv.slice(2));
