import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '@cbot-relay/config';
import { CliContext } from './cli-context.js';
import type { CliIo } from './cli-context.js';
import { EXIT, toCliError, usageError } from './cli-error.js';
import { deadLettersCommand } from './dead-letters-command.js';
import { mediaCommand } from './media-command.js';
import { messagesCommand } from './messages-command.js';
import { queuesCommand } from './queues-command.js';
import { subscribersCommand } from './subscribers-command.js';
import { templatesCommand, usageCommand } from './templates-usage-command.js';
import { webhookCommand } from './webhook-command.js';

const HELP_FOOTER = `
Reads the relay's environment: REDIS_URL, REDIS_CLUSTER, QUEUE_PREFIX, SUBSCRIPTIONS_FILE, CBOT_*,
PUBLIC_WEBHOOK_URL. Works on Redis directly: no ingress needs to run.

Exit codes: 0 ok, 1 the operation failed, 2 usage error or invalid configuration, 3 not found,
4 cannot reach Redis or CBOT.`;

/** The command tree; `ctx` builds the context (config, connections) on first use, so `--help` needs none. */
export function buildProgram(ctx: () => CliContext, io: CliIo): Command {
  const program = new Command('cbot-relay')
    .description('operate a cbot-relay deployment: messages, dead letters, the CBOT callback URL, media, subscribers, queues, templates, usage')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_FOOTER);
  // Subcommands inherit exitOverride, output and help settings from here.
  for (const make of [messagesCommand, deadLettersCommand, webhookCommand, mediaCommand, subscribersCommand, queuesCommand, templatesCommand, usageCommand]) {
    const cmd = make(ctx);
    program.addCommand(inherit(cmd, program));
  }
  return program;
}

/** addCommand does not copy settings the way .command() does: give each subcommand tree the program's. */
function inherit(cmd: Command, from: Command): Command {
  cmd.copyInheritedSettings(from);
  for (const sub of cmd.commands) inherit(sub, cmd);
  return cmd;
}

/** Runs one command line; resolves to the exit code. Errors go to stderr as one line. */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let context: CliContext | undefined;
  const ctx = () => {
    if (!context) {
      try {
        context = new CliContext(loadConfig(env), io);
      } catch (err) {
        if (err instanceof ConfigError) throw usageError(`invalid configuration: ${err.message}`);
        throw err;
      }
    }
    return context;
  };
  try {
    await buildProgram(ctx, io).parseAsync([...argv], { from: 'user' });
    return context?.exitCode ?? EXIT.ok;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const e = toCliError(err);
    io.stderr.write(`cbot-relay: ${e.message}\n`);
    return e.exitCode;
  } finally {
    await context?.close();
  }
}
