import type { IdSource } from './ids.js';
import type { InboundKind, ParsedInboundRequest } from './inbound-request.js';

/** The simulated business number (context.from, Cloud metadata). */
export const businessNumber = '908501234567';
const wabaId = '104857600000001';
const phoneNumberId = '110000000000001';

type Json = Record<string, unknown>;

/** A realistic inbound callback: On-Premises shape (t01) or the Cloud API envelope (t19). */
export function inboundPayload(req: ParsedInboundRequest, ids: IdSource, nowMs: number): Json {
  const cloud = req.format === 'cloud';
  const message: Json = {
    from: req.from,
    id: cloud ? ids.wamid() : ids.inboundId(),
    timestamp: String(Math.floor(nowMs / 1000)),
    ...content(req.kind, req, ids, cloud),
  };
  const contacts = [{ profile: { name: req.name }, wa_id: req.from }];
  if (!cloud) return { contacts, messages: [message] };
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: businessNumber, phone_number_id: phoneNumberId },
    contacts,
    messages: [message],
  };
  return { object: 'whatsapp_business_account', entry: [{ id: wabaId, changes: [{ value, field: 'messages' }] }] };
}

function content(kind: InboundKind, req: ParsedInboundRequest, ids: IdSource, cloud: boolean): Json {
  const media = (mime: string): Json => ({ id: req.mediaId ?? ids.hex32(), mime_type: mime, sha256: ids.hex32() + ids.hex32() });
  const quoted = req.replyTo ?? ids.wamid();
  const context = { from: businessNumber, id: quoted };
  switch (kind) {
    case 'text':
      return { type: 'text', text: { body: req.text ?? 'Merhaba, siparişim nerede?' } };
    case 'image':
      return { type: 'image', image: { ...media('image/jpeg'), caption: req.text ?? 'Kutu hasarlı geldi' } };
    case 'audio':
      return { type: 'audio', audio: { ...media('audio/ogg; codecs=opus'), ...(cloud ? { voice: true } : {}) } };
    case 'voice':
      // On-Premises names voice notes `voice`; Cloud sends them as audio marked voice.
      return cloud
        ? { type: 'audio', audio: { ...media('audio/ogg; codecs=opus'), voice: true } }
        : { type: 'voice', voice: media('audio/ogg; codecs=opus') };
    case 'video':
      return { type: 'video', video: { ...media('video/mp4'), caption: req.text ?? 'Kargo kutusu' } };
    case 'document':
      return {
        type: 'document',
        document: { ...media('application/pdf'), filename: 'fatura.pdf', caption: req.text ?? 'Fatura' },
      };
    case 'sticker':
      return { type: 'sticker', sticker: { ...media('image/webp'), animated: false } };
    case 'location':
      return {
        type: 'location',
        location: {
          latitude: 40.990368, longitude: 29.029239, name: req.text ?? 'Moda Sahili',
          address: 'Caferağa, 34710 Kadıköy/İstanbul',
        },
      };
    case 'contacts':
      return {
        type: 'contacts',
        contacts: [{
          name: { formatted_name: req.text ?? 'Mehmet Demir', first_name: 'Mehmet', last_name: 'Demir' },
          phones: [{ phone: '+90 555 999 88 77', wa_id: '905559998877', type: 'CELL' }],
        }],
      };
    case 'interactive_button':
      return {
        type: 'interactive', context,
        interactive: { type: 'button_reply', button_reply: { id: 'slot_ok', title: req.text ?? 'Onayla' } },
      };
    case 'interactive_list':
      return {
        type: 'interactive', context,
        interactive: {
          type: 'list_reply',
          list_reply: { id: 'row_track', title: req.text ?? 'Kargo takibi', description: 'Siparişimin durumu' },
        },
      };
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: quoted, emoji: req.text ?? '👍' } };
    case 'unknown':
      return cloud
        ? {
            type: 'unsupported',
            errors: [{
              code: 131051, title: 'Message type unknown', message: 'Message type unknown',
              error_data: { details: 'Message type is currently not supported.' },
            }],
          }
        : {
            type: 'unknown',
            errors: [{ code: 501, title: 'Unknown message type', details: 'Message type is not currently supported' }],
          };
  }
}
