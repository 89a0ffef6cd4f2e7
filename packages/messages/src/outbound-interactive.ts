import { z } from 'zod';
import { mediaSource } from './outbound-content.js';
import { textField } from './text-field.js';

// Limits are WhatsApp's; a body over them would only come back as a CBOT error later.

const Header = z.looseObject({
  type: z.enum(['text', 'image', 'video', 'document']),
  text: textField(60).optional(),
  image: z.looseObject(mediaSource).optional(),
  video: z.looseObject(mediaSource).optional(),
  document: z.looseObject({ ...mediaSource, filename: textField(255).optional() }).optional(),
});
const Body = z.looseObject({ text: textField(1024) });
const Footer = z.looseObject({ text: textField(60) });

const ReplyButton = z.looseObject({
  type: z.literal('reply'),
  reply: z.looseObject({ id: textField(256), title: textField(20) }),
});

const ButtonInteractive = z.looseObject({
  type: z.literal('button'),
  header: Header.optional(),
  body: Body,
  footer: Footer.optional(),
  action: z.looseObject({ buttons: z.array(ReplyButton).min(1).max(3) }),
});

const ListRow = z.looseObject({
  id: textField(200),
  title: textField(24),
  description: textField(72).optional(),
});
const ListSection = z.looseObject({
  title: textField(24).optional(),
  rows: z.array(ListRow).min(1).max(10),
});
const MAX_LIST_ROWS = 10; // across all sections

const ListInteractive = z.looseObject({
  type: z.literal('list'),
  header: Header.optional(),
  body: Body,
  footer: Footer.optional(),
  action: z
    .looseObject({ button: textField(20), sections: z.array(ListSection).min(1).max(10) })
    .refine((action) => action.sections.reduce((n, s) => n + s.rows.length, 0) <= MAX_LIST_ROWS, {
      message: `must have at most ${MAX_LIST_ROWS} rows in all`,
      path: ['sections'],
    })
    .meta({ description: `at most ${MAX_LIST_ROWS} rows in all sections together` }),
});

export const INTERACTIVE_TYPES = ['button', 'list'] as const;

export const InteractiveContent = z.discriminatedUnion('type', [ButtonInteractive, ListInteractive], {
  error: (issue) => (issue.code === 'invalid_union' ? `must be one of: ${INTERACTIVE_TYPES.join(', ')}` : undefined),
});
