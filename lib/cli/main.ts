/**
 * The CLI's wiring: commander, the command list and exit codes. Each command is one file under
 * lib/cli/commands/ (its function and its `register`); adding one is a file and a line here.
 */
import { Command, CommanderError } from 'commander';
import * as check from './commands/check';
import * as connlist from './commands/connlist';
import * as diff from './commands/diff';
import * as explain from './commands/explain';
import * as importCompose from './commands/import';
import * as scan from './commands/scan';
import * as status from './commands/status';
import * as suggest from './commands/suggest';
import * as verify from './commands/verify';
import { EXIT, Io, UsageError, errColours, packageVersion, printable, wantsColour } from './io';

export { EXIT, wantsColour } from './io';
export { namesService } from './commands/status';

/** The commands, in the order `--help` lists them. */
const COMMANDS = [check, suggest, status, scan, diff, verify, explain, connlist, importCompose];

export function program(io: Io, setCode: (code: number) => void): Command {
  const cli = new Command('cdk8s-ports')
    .description('Port allocation as code: check, suggest, status, scan, diff, verify, explain, connlist and import for a cdk8s-ports registry.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  cli.version(packageVersion(), '-V, --version', 'print the version');
  for (const command of COMMANDS) command.register(cli, io, setCode);
  return cli;
}

/** Runs the CLI; returns the exit code. Never throws, never prints a stack trace. */
export function main(argv: readonly string[], io: Io = {
  out: t => process.stdout.write(t),
  err: t => process.stderr.write(t),
  cwd: process.cwd(),
  colour: { out: wantsColour(process.stdout), err: wantsColour(process.stderr) },
}): number {
  let code: number = EXIT.CLEAN;
  const cli = program(io, c => { code = c; });
  try {
    cli.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? EXIT.CLEAN : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      // Messages quote names from files and arguments: escaped, line by line, so they cannot rewrite the terminal.
      io.err(`${errColours(io).red('error')}: ${e.message.split('\n').map(printable).join('\n')}\n`);
      return EXIT.USAGE;
    }
    io.err(`${errColours(io).red('internal error')}: ${(e as Error).message}\nplease report this with the command you ran\n`);
    return EXIT.USAGE;
  }
  if (argv.length === 0) {
    cli.outputHelp();
    return EXIT.USAGE;
  }
  return code;
}
