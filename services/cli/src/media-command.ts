import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { MEDIA_ID_PATTERN } from '@cbot-relay/messages';
import type { CliContext } from './cli-context.js';
import { failed, notFound, unreachable, usageError } from './cli-error.js';

/**
 * `media get <id>`: the file straight from the channel's CBOT (the relay's own configuration and key,
 * like `webhook`), streamed to a file or stdout; a summary line goes to stderr.
 */
export function mediaCommand(ctx: () => CliContext): Command {
  const media = new Command('media').description("media files on the channel's CBOT");
  media
    .command('get')
    .description('download a media file by its CBOT media id (an upload\'s id, or an inbound event\'s media.id)')
    .argument('<id>', 'the CBOT media id')
    .option('--channel <id>', 'the CBOT channel (a CHANNELS_FILE id; default: the default channel)')
    .option('-o, --output <file>', 'write the file here (default: stdout)')
    .action(async (id: string, opts: { channel?: string; output?: string }) => {
      if (!MEDIA_ID_PATTERN.test(id)) throw usageError(`not a media id: ${JSON.stringify(id.slice(0, 64))}`);
      const c = ctx();
      const channel = c.channel(opts.channel);
      const got = await c.cbot(channel).openMedia(id, AbortSignal.timeout(c.config.media.timeoutMs));
      if (!got.ok) {
        if (got.status === 404) throw notFound(`no media ${id} on channel ${channel.id}`);
        if (got.code === 'cbot_unreachable' || got.code === 'cbot_timeout') throw unreachable(`cannot reach CBOT: ${got.message}`);
        throw failed(got.message);
      }
      await pipeline(got.body, opts.output === undefined ? c.io.stdout : createWriteStream(opts.output));
      if (opts.output !== undefined) {
        c.io.stderr.write(`wrote ${opts.output} (${got.contentType}${got.contentLength === undefined ? '' : `, ${got.contentLength} bytes`})\n`);
      }
    });
  return media;
}
