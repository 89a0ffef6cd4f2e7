import { z } from 'zod';
import { MEDIA_ID_PATTERN } from '@cbot-relay/messages';
import { ChannelId } from './send.js';

/** `POST /v1/media`'s answer: CBOT's media id, to send by `id` on the same channel. */
export const MediaUploaded = z.object({
  id: z.string().meta({ description: "CBOT's media id; send it as `image.id`, `document.id`… on the same channel" }),
  channel: ChannelId.meta({ description: 'the channel it was uploaded to' }),
});
export type MediaUploaded = z.infer<typeof MediaUploaded>;

/** A CBOT media id as the relay takes it in a path. */
export const MediaId = z.string().regex(MEDIA_ID_PATTERN);
