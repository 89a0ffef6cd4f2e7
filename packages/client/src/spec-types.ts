// Generated from docs/openapi.json by `pnpm openapi` (packages/api/src/client-types.ts). Do not edit.

export type SendRequest = TextMessage | ImageMessage | AudioMessage | VideoMessage | DocumentMessage | StickerMessage | LocationMessage | ContactsMessage | InteractiveMessage | TemplateMessage | ReactionMessage;

export type TextMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "text";
  text: {
    body: string;
    preview_url?: boolean;
    [key: string]: unknown;
  };
  preview_url?: boolean;
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type ImageMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "image";
  image: {
    id?: string;
    link?: string;
    caption?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type AudioMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "audio";
  audio: {
    id?: string;
    link?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type VideoMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "video";
  video: {
    id?: string;
    link?: string;
    caption?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type DocumentMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "document";
  document: {
    id?: string;
    link?: string;
    caption?: string;
    filename?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type StickerMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "sticker";
  sticker: {
    id?: string;
    link?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type LocationMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "location";
  location: {
    latitude: number;
    longitude: number;
    name?: string;
    address?: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type ContactsMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "contacts";
  contacts: {
    name: {
      formatted_name: string;
      first_name?: string;
      last_name?: string;
      middle_name?: string;
      suffix?: string;
      prefix?: string;
      [key: string]: unknown;
    };
    phones?: {
      type?: string;
      phone?: string;
      wa_id?: string;
      [key: string]: unknown;
    }[];
    emails?: {
      type?: string;
      email?: string;
      [key: string]: unknown;
    }[];
    addresses?: {
      type?: string;
      street?: string;
      city?: string;
      state?: string;
      zip?: string;
      country?: string;
      country_code?: string;
      [key: string]: unknown;
    }[];
    urls?: {
      type?: string;
      url?: string;
      [key: string]: unknown;
    }[];
    org?: {
      company?: string;
      department?: string;
      title?: string;
      [key: string]: unknown;
    };
    birthday?: string;
    [key: string]: unknown;
  }[];
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type InteractiveMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "interactive";
  interactive: ({
    type: "button";
    header?: {
      type: "text" | "image" | "video" | "document";
      text?: string;
      image?: {
        id?: string;
        link?: string;
        [key: string]: unknown;
      };
      video?: {
        id?: string;
        link?: string;
        [key: string]: unknown;
      };
      document?: {
        id?: string;
        link?: string;
        filename?: string;
        [key: string]: unknown;
      };
      [key: string]: unknown;
    };
    body: {
      text: string;
      [key: string]: unknown;
    };
    footer?: {
      text: string;
      [key: string]: unknown;
    };
    action: {
      buttons: {
        type: "reply";
        reply: {
          id: string;
          title: string;
          [key: string]: unknown;
        };
        [key: string]: unknown;
      }[];
      [key: string]: unknown;
    };
    [key: string]: unknown;
  }) | ({
    type: "list";
    header?: {
      type: "text" | "image" | "video" | "document";
      text?: string;
      image?: {
        id?: string;
        link?: string;
        [key: string]: unknown;
      };
      video?: {
        id?: string;
        link?: string;
        [key: string]: unknown;
      };
      document?: {
        id?: string;
        link?: string;
        filename?: string;
        [key: string]: unknown;
      };
      [key: string]: unknown;
    };
    body: {
      text: string;
      [key: string]: unknown;
    };
    footer?: {
      text: string;
      [key: string]: unknown;
    };
    /** at most 10 rows in all sections together */
    action: {
      button: string;
      sections: {
        title?: string;
        rows: {
          id: string;
          title: string;
          description?: string;
          [key: string]: unknown;
        }[];
        [key: string]: unknown;
      }[];
      [key: string]: unknown;
    };
    [key: string]: unknown;
  });
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type TemplateMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "template";
  template: {
    name: string;
    namespace?: string;
    language: {
      code: string;
      policy?: string;
      [key: string]: unknown;
    };
    components?: {
      type: string;
      [key: string]: unknown;
    }[];
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type ReactionMessage = {
  /** WhatsApp id: 1 to 15 digits, optionally after a + */
  to: string;
  recipient_type?: "individual";
  messaging_product?: "whatsapp";
  context?: {
    message_id: string;
    [key: string]: unknown;
  };
  type: "reaction";
  reaction: {
    message_id: string;
    /** one emoji (one grapheme), or "" to remove an earlier reaction */
    emoji: string;
    [key: string]: unknown;
  };
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel?: string;
  fallback?: Fallback;
  [key: string]: unknown;
};

export type SendAccepted = {
  id: string;
  status: "queued" | "scheduled";
};

/** optional: an empty body is `{}` */
export type ReadRequest = {
  /** also show the typing indicator (Cloud channels; On-Premises has none and ignores it) */
  typing?: boolean;
};

export type ReadAccepted = {
  wamid: string;
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel: string;
  status: "queued";
  /** a receipt for this wamid was taken within the last 24 h: nothing more is sent */
  duplicate: boolean;
};

export type BatchRequest = {
  messages: (SendRequest & {
    /** 1 to 255 visible ASCII characters; the same key with the same body within 24 h returns the first answer and sends nothing more; with another body it is 409 */
    idempotencyKey?: string;
    /** RFC 3339 time (with Z or an offset): the message is `scheduled` until then, at most 30 days ahead; a past time means now */
    sendAt?: string;
    /** 1 to 64 characters of A–Z a–z 0–9 . _ : -; labels the message for GET /v1/messages?tag= and POST /v1/messages/cancel */
    tag?: string;
  })[];
};

export type BatchResponse = {
  results: ({
    status: 202;
    id: string;
    /** the recipient's customer-service window (as X-Relay-Window on a single send) */
    window: WindowState;
  } | ({
    status: number;
    error: {
      /** machine-readable; see the codes listed on each response */
      code: string;
      /** human-readable; never echoes the request */
      message: string;
      details?: ({
        /** dot path of the field (`contacts.0.name.formatted_name`), or the header name; "" is the body itself */
        path?: string;
        message: string;
        /** outside_customer_service_window: the recipient's last inbound message, null when none is known */
        lastInboundAt?: string | null;
        /** recipient_opted_out: when the recipient opted out */
        optedOutAt?: string;
      })[];
    };
  }))[];
};

export type CancelTagResult = {
  /** messages canceled now; none of them is sent */
  canceled: number;
};

export type Message = {
  id: string;
  /** moves scheduled → queued → sending → sent → delivered → read, or ends failed, expired or canceled; never moves back */
  status: "scheduled" | "queued" | "sending" | "sent" | "failed" | "expired" | "canceled" | "delivered" | "read";
  /** the recipient as queued: without a leading + or surrounding spaces */
  to: string;
  type: string;
  /** CBOT's message id (wamid) once sent */
  cbotMessageId: string | null;
  /** each send attempt: its time, outcome, CBOT HTTP status and error */
  attempts: Attempt[];
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
  expiresAt?: string;
  /** why the message failed (the CBOT error, or the relay's reason) */
  error?: unknown;
  /** the name of the caller's key: only in an admin key's list */
  caller?: string;
  priority: "high" | "normal" | "bulk";
  /** the channel that sends it (records from before channels: default) */
  channel: string;
  sentBody?: "message" | "fallback";
  /** X-Relay-Tag of the send */
  tag?: string;
  /** X-Relay-Send-At of the send, when it was ahead (the message was scheduled) */
  sendAt?: string;
  /** what the message cost, from the first status callback that carried `pricing` or `conversation` */
  pricing?: {
    billable: boolean;
    model: string | null;
    /** marketing, utility, authentication or service (other WhatsApp categories are kept as given) */
    category: string;
    type: "regular" | "free_customer_service" | "free_entry_point";
  };
};

export type Attempt = {
  at: string;
  outcome: "sent" | "retry" | "throttled" | "failed" | "expired" | "replayed" | "unknown" | "reconciled";
  httpStatus?: number;
  error?: string;
  detail?: string;
};

/** one status the message reached, in the order reached */
export type HistoryEntry = {
  /** the status reached, or `fallback`: where the relay chose to send the message's fallback template instead (customer-service window) */
  status: ("scheduled" | "queued" | "sending" | "sent" | "failed" | "expired" | "canceled" | "delivered" | "read") | "fallback";
  /** when the relay recorded the status */
  at: string;
  /** CBOT's own time of the status, where a callback gave one */
  cbotAt?: string;
  /** the CBOT error, on the latest `failed` */
  error?: unknown;
};

export type MessageList = {
  items: Message[];
  /** pass as `cursor` for the next page; null on the last */
  nextCursor: string | null;
};

export type TemplateList = {
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel: string;
  /** when the relay loaded this list from CBOT (it reloads every TEMPLATES_REFRESH_S and on template.status events) */
  fetchedAt: string;
  templates: {
    name: string;
    /** language code, e.g. `en_US` */
    language: string;
    /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED... (On-Premises in lower case) */
    status?: string;
    category?: string;
    /** HEADER, BODY, FOOTER, BUTTONS with their `{{n}}` placeholders */
    components?: unknown[];
    [key: string]: unknown;
  }[];
};

export type UsageReport = {
  /** start of the first UTC day counted */
  since: string;
  /** end of the last UTC day counted (exclusive) */
  until: string;
  items: ({
    /** the name of the sending key (RELAY_API_KEYS) */
    caller: string;
    channel: string;
    /** marketing, utility, authentication or service (`unknown` when CBOT gave none readable) */
    category: string;
    type: "regular" | "free_customer_service" | "free_entry_point";
    /** messages priced in the range, each counted once */
    count: number;
  })[];
};

export type ErrorBody = {
  error: {
    /** machine-readable; see the codes listed on each response */
    code: string;
    /** human-readable; never echoes the request */
    message: string;
    details?: ({
      /** dot path of the field (`contacts.0.name.formatted_name`), or the header name; "" is the body itself */
      path?: string;
      message: string;
      /** outside_customer_service_window: the recipient's last inbound message, null when none is known */
      lastInboundAt?: string | null;
      /** recipient_opted_out: when the recipient opted out */
      optedOutAt?: string;
    })[];
  };
};

/** sent instead of the message, once and in its place in the recipient's order, where WhatsApp would refuse the free-form message for its customer-service window: at accept, at dispatch, or on CBOT's 131047 / 470 answer. Never sent to CBOT as part of the message */
export type Fallback = {
  type: "template";
  /** a template message's `template` object (validated as one) */
  template: {
    [key: string]: unknown;
  };
};

/** `open`: an inbound message within 24 h; `closed`: older, or none while the relay has tracked the channel for 24 h; `unknown`: nothing seen yet */
export type WindowState = "open" | "closed" | "unknown";

export type Recipient = {
  /** the recipient, normalised like a send (no leading + or spaces) */
  to: string;
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel: string;
  /** the recipient's newest inbound message on the channel (its own timestamp, clamped to the relay's clock); null when none is known */
  lastInboundAt: string | null;
  window: WindowState;
  /** lastInboundAt + 24 h; null when no inbound is known */
  windowClosesAt: string | null;
  optedOut: boolean;
  optedOutAt: string | null;
};

export type OptOut = {
  to: string;
  /** a channel id from CHANNELS_FILE (`default` without one); removed before the body goes to CBOT */
  channel: string;
  optedOutAt: string;
};

export type OptOutList = {
  /** in recipient order */
  items: OptOut[];
  /** pass as `cursor` for the next page; null on the last */
  nextCursor: string | null;
};

export type Channel = {
  id: string;
  api: "onprem" | "cloud";
  /** `paused`: sending waits until `until` (or an operator resume when `until` is null); `stopped`: WhatsApp restricted or locked the account (368, 131031), sending waits for an operator resume */
  state: "active" | "paused" | "stopped";
  /** why: `throughput` (130429, 80007, 4, 1015, HTTP 429), `quality` (131048), `restricted` (368, 131031), `operator` (POST …/pause); null when active */
  reason: ("throughput" | "quality" | "restricted" | "operator") | null;
  /** the WhatsApp error code that paused or stopped the channel, if one did */
  code: number | null;
  /** when a timed pause ends; null when active, stopped or paused until resumed */
  until: string | null;
  /** messages per second to CBOT on this channel (rateLimit / CBOT_RATE_LIMIT) */
  rateLimit: number;
  /** messages queued on the channel, not yet sent or ended */
  backlog: number;
  /** the number quality from the last phone_number_quality_update callback; UNKNOWN until one came */
  quality: "GREEN" | "YELLOW" | "RED" | "UNKNOWN";
};

export type ChannelList = Channel[];

export type ChannelPauseRequest = {
  /** how long, 1 to 2592000; absent: until resumed */
  seconds?: number;
};

export type MediaUploaded = {
  /** CBOT's media id; send it as `image.id`, `document.id`… on the same channel */
  id: string;
  /** the channel it was uploaded to */
  channel: string;
};
