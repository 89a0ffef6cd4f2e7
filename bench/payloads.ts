/** Request bodies the bench sends. Sizes are realistic, not minimal: Redis bytes per message depend on them. */

/** Distinct recipients, so messages are sent in parallel (one in flight per recipient). */
export const RECIPIENTS = 10_000;

/** The 10k recipients: 49 151 0000000 … 49 151 0009999. */
export function recipient(i: number): string {
  return `4915100${String(i % RECIPIENTS).padStart(6, '0')}`;
}

/**
 * A text message of ~190 bytes of JSON. `tag` goes first in the text so the simulator's record of the
 * message can be matched back to the request that sent it.
 */
export function textMessage(i: number, tag: string): string {
  return JSON.stringify({
    to: recipient(i),
    type: 'text',
    text: { body: `${tag} Your order #${100_000 + (i % 900_000)} has shipped and will arrive on Thursday between 9:00 and 12:00.` },
  });
}

/** The tag textMessage put first in the body text, or undefined for another message. */
export function tagOf(body: unknown): string | undefined {
  const text = (body as { text?: { body?: unknown } } | undefined)?.text?.body;
  return typeof text === 'string' ? text.split(' ', 1)[0] : undefined;
}

/** An On-Premises status callback (~230 bytes), one status with a unique message id. */
export function statusCallback(i: number): string {
  return JSON.stringify({
    statuses: [
      {
        id: `gBEGkZFVEVZYAgkSYJ5dZyTRbench${String(i).padStart(10, '0')}`,
        recipient_id: recipient(i),
        status: 'delivered',
        timestamp: String(1_700_000_000 + i),
        conversation: { id: `conv${i % 1000}`, origin: { type: 'utility' } },
      },
    ],
  });
}

/**
 * A template message with two body parameters (~230 bytes of JSON), the campaign message the issue's
 * memory targets are stated for: the simulator's approved `order_shipped` (Turkish, two parameters).
 */
export function templateMessage(i: number, to: string = recipient(i)): string {
  return JSON.stringify({
    to,
    type: 'template',
    template: {
      name: 'order_shipped',
      language: { code: 'tr' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ayşe Yılmaz' }, { type: 'text', text: `#${100_000 + (i % 900_000)}` }] }],
    },
  });
}
