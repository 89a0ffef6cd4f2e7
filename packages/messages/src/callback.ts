import { z } from 'zod';
import { eventId, type RelayEvent } from './event.js';
import { isJsonObject, ownValue } from './json-object.js';
import { normalizeRecipient } from './recipient.js';

type FieldEventType = 'template.status' | 'template.quality' | 'phone_number.quality' | 'account.update';

/** Cloud `changes[].field` values that are events of their own (every other field is read as a messages container). */
export const FIELD_EVENT_TYPES: Readonly<Record<string, FieldEventType>> = {
  message_template_status_update: 'template.status',
  message_template_quality_update: 'template.quality',
  phone_number_quality_update: 'phone_number.quality',
  account_update: 'account.update',
  account_alerts: 'account.update',
  account_review_update: 'account.update',
};

/** What makes an inbound message usable: an id. Any `type` is kept, known or not. */
export const CbotInboundMessage = z.looseObject({ id: z.string().min(1) });
export type CbotInboundMessage = z.infer<typeof CbotInboundMessage>;

/** What makes a status usable: an id and a status value, any value (`deleted`, `warning`...). */
export const CbotStatus = z.looseObject({ id: z.string().min(1), status: z.string().min(1) });
export type CbotStatus = z.infer<typeof CbotStatus>;

type JsonObject = Record<string, unknown>;

/** What one callback may cost downstream (CALLBACK_MAX_ITEMS, EVENT_CONTACT_MAX_BYTES). */
export interface CallbackLimits {
  /** Messages + statuses (valid or not) made into events of their own, across the whole callback. */
  maxItems: number;
  /** A sender's `contacts[]` entry is copied whole into its events only up to this many UTF-8 bytes of JSON. */
  contactMaxBytes: number;
}

export const DEFAULT_CALLBACK_LIMITS: CallbackLimits = { maxItems: 1000, contactMaxBytes: 4096 };

/** `reason` of the one `unrecognized` event that carries a callback's items past `maxItems`. */
export const OVER_CAP_REASON = 'callback_max_items';

/** A profile name in a shortened contact keeps this many code points. */
const CONTACT_NAME_MAX = 256;

/**
 * Turns one CBOT callback (On-Premises or Cloud envelope) into events. Nothing is
 * dropped: whatever is not a message or a status becomes an `unrecognized` event, and so
 * do the messages and statuses past `limits.maxItems` (one event per container, holding
 * them as CBOT sent them, `reason: "callback_max_items"`). Never throws on any payload.
 */
export function eventsFromCallback(
  payload: unknown,
  receivedAt: Date,
  rawBody: string,
  limits: CallbackLimits = DEFAULT_CALLBACK_LIMITS,
): RelayEvent[] {
  if (Number.isNaN(receivedAt.getTime())) throw new RangeError('receivedAt must be a valid Date');
  const builder = new EventBuilder(receivedAt.toISOString(), rawBody, limits);
  const entries = isJsonObject(payload) ? ownValue(payload, 'entry') : undefined;
  if (Array.isArray(entries)) {
    for (const entry of entries) builder.cloudEntry(entry);
  } else {
    builder.container(payload, undefined);
  }
  if (builder.events.length === 0) builder.unrecognized(payload, undefined);
  return builder.events;
}

class EventBuilder {
  readonly events: RelayEvent[] = [];
  private readonly ids = new Set<string>();
  private unrecognizedCount = 0;
  /** Items still allowed an event of their own. */
  private budget: number;
  /** Each contacts[] entry's event form, computed once however many messages share it. */
  private readonly contactForms = new Map<JsonObject, JsonObject>();

  constructor(
    private readonly receivedAt: string,
    private readonly rawBody: string,
    private readonly limits: CallbackLimits,
  ) {
    this.budget = limits.maxItems;
  }

  cloudEntry(entry: unknown): void {
    const changes = isJsonObject(entry) ? ownValue(entry, 'changes') : undefined;
    if (!Array.isArray(changes)) return this.unrecognized(entry, undefined);
    for (const change of changes) {
      const value = isJsonObject(change) ? ownValue(change, 'value') : undefined;
      if (!isJsonObject(value)) {
        this.unrecognized(change, undefined);
        continue;
      }
      const field = ownValue(change as JsonObject, 'field');
      const typed = typeof field === 'string' && Object.hasOwn(FIELD_EVENT_TYPES, field) ? FIELD_EVENT_TYPES[field] : undefined;
      if (typed !== undefined) {
        this.fieldEvent(typed, field as string, value, entry as JsonObject);
        continue;
      }
      const metadata = ownValue(value, 'metadata');
      this.container(value, isJsonObject(metadata) ? metadata : undefined);
    }
  }

  /** An On-Premises payload or a Cloud change value: `{contacts, messages, statuses, errors}`. */
  container(container: unknown, metadata: JsonObject | undefined): void {
    if (!isJsonObject(container)) return this.unrecognized(container, metadata);
    const before = this.events.length;
    const messages = ownValue(container, 'messages');
    const statuses = ownValue(container, 'statuses');
    const errors = ownValue(container, 'errors');
    const contacts = ownValue(container, 'contacts');
    let keepWhole = !isListOrAbsent(messages) || !isListOrAbsent(statuses);
    // System errors (not tied to a message) have no event type of their own.
    if (errors !== undefined && !(Array.isArray(errors) && errors.length === 0)) keepWhole = true;

    const [ownMessages, overMessages] = this.take(messages);
    const [ownStatuses, overStatuses] = this.take(statuses);

    for (const message of ownMessages) {
      const parsed = CbotInboundMessage.safeParse(message);
      if (!parsed.success) {
        this.unrecognized(message, metadata);
        continue;
      }
      this.push({
        id: eventId(`message\n${parsed.data.id}`),
        type: 'message.received',
        ...this.times(message),
        ...optional('contact', this.contactForm(senderContact(contacts, parsed.data['from']))),
        ...optional('metadata', metadata),
        data: message,
      });
    }
    for (const status of ownStatuses) {
      const parsed = CbotStatus.safeParse(status);
      if (!parsed.success) {
        this.unrecognized(status, metadata);
        continue;
      }
      this.push({
        id: eventId(`status\n${parsed.data.id}\n${parsed.data.status}`),
        type: 'message.status',
        ...this.times(status),
        ...optional('metadata', metadata),
        data: status,
      });
    }
    if (overMessages.length > 0 || overStatuses.length > 0) {
      // The container as CBOT sent it, holding only the items past the cap: a consumer can read it
      // as a callback. Their statuses do not move message records.
      const rest: JsonObject = { ...container };
      if (overMessages.length > 0) rest['messages'] = overMessages;
      else delete rest['messages'];
      if (overStatuses.length > 0) rest['statuses'] = overStatuses;
      else delete rest['statuses'];
      this.unrecognized(rest, metadata, OVER_CAP_REASON);
    }
    if (keepWhole || this.events.length === before) this.unrecognized(container, metadata);
  }

  /**
   * A Cloud change about the account rather than a message (`field` other than `messages`): its value
   * unchanged as `data`. The id is the entry's and the value's, so a redelivered callback repeats it.
   */
  fieldEvent(type: FieldEventType, field: string, value: JsonObject, entry: JsonObject): void {
    const entryId = ownValue(entry, 'id');
    const time = ownValue(entry, 'time');
    const metadata = ownValue(value, 'metadata');
    this.push({
      id: eventId(`${field}\n${typeof entryId === 'string' ? entryId : ''}\n${String(time ?? '')}\n${JSON.stringify(value)}`),
      type,
      occurredAt: occurredAt(value) ?? occurredAt({ timestamp: time }) ?? this.receivedAt,
      receivedAt: this.receivedAt,
      ...optional('metadata', isJsonObject(metadata) ? metadata : undefined),
      field,
      data: value,
    });
  }

  unrecognized(data: unknown, metadata: JsonObject | undefined, reason?: string): void {
    const n = this.unrecognizedCount++;
    this.push({
      id: eventId(`unrecognized\n${this.rawBody}${n === 0 ? '' : `\n${n}`}`),
      type: 'unrecognized',
      ...this.times(data),
      ...optional('metadata', metadata),
      ...optional('reason', reason),
      data: data === undefined ? null : data, // keep the `data` key through JSON
    });
  }

  /** Splits a list into the items that still get events of their own and those past the cap. */
  private take(list: unknown): [unknown[], unknown[]] {
    if (!Array.isArray(list)) return [[], []];
    const own = Math.min(list.length, Math.max(0, this.budget));
    this.budget -= own;
    return own === list.length ? [list, []] : [list.slice(0, own), list.slice(own)];
  }

  /**
   * The contact as copied into events: whole up to `contactMaxBytes`, else `wa_id` and the profile
   * name (cut to 256 characters) with `truncated: true`, so one oversized contact is not repeated
   * into every event of a large callback.
   */
  private contactForm(contact: JsonObject | undefined): JsonObject | undefined {
    if (contact === undefined) return undefined;
    let form = this.contactForms.get(contact);
    if (form === undefined) {
      form = Buffer.byteLength(JSON.stringify(contact), 'utf8') <= this.limits.contactMaxBytes ? contact : shortContact(contact);
      this.contactForms.set(contact, form);
    }
    return form;
  }

  private push(event: RelayEvent): void {
    // A message or status repeated inside one callback is one event.
    if (this.ids.has(event.id)) return;
    this.ids.add(event.id);
    this.events.push(event);
  }

  private times(data: unknown): { occurredAt: string; receivedAt: string } {
    return { occurredAt: occurredAt(data) ?? this.receivedAt, receivedAt: this.receivedAt };
  }
}

function isListOrAbsent(value: unknown): boolean {
  return value === undefined || Array.isArray(value);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Joined by `wa_id`, never by index: CBOT does not promise the two arrays line up. Both sides are
 * normalised (`+9055…` and `9055…` are one sender), as everywhere a WhatsApp id is a key.
 */
function senderContact(contacts: unknown, from: unknown): JsonObject | undefined {
  if (typeof from !== 'string' || !Array.isArray(contacts)) return undefined;
  const sender = normalizeRecipient(from);
  return contacts.find((c): c is JsonObject => {
    const waId = isJsonObject(c) ? ownValue(c, 'wa_id') : undefined;
    return typeof waId === 'string' && normalizeRecipient(waId) === sender;
  });
}

function shortContact(contact: JsonObject): JsonObject {
  const profile = ownValue(contact, 'profile');
  const name = isJsonObject(profile) ? ownValue(profile, 'name') : undefined;
  return {
    wa_id: ownValue(contact, 'wa_id'),
    ...(typeof name === 'string' ? { profile: { name: [...name.slice(0, CONTACT_NAME_MAX * 2)].slice(0, CONTACT_NAME_MAX).join('') } } : {}),
    truncated: true,
  };
}

/** CBOT `timestamp`: unix seconds, as a string or a number. */
function occurredAt(data: unknown): string | undefined {
  const ts = isJsonObject(data) ? ownValue(data, 'timestamp') : undefined;
  const seconds =
    typeof ts === 'number' ? ts : typeof ts === 'string' && /^\d{1,15}(\.\d+)?$/.test(ts) ? Number(ts) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
