/** On-Premises style error bodies, serialised once because they sit on the hot path. */

export type SimFailureStatus = 400 | 429 | 500 | 503;

function errorBody(code: number, title: string, details?: string): string {
  return JSON.stringify({ errors: [details === undefined ? { code, title } : { code, title, details }] });
}

export const accessDeniedBody = errorBody(1005, 'Access denied', 'Invalid credentials.');
export const notFoundBody = errorBody(1006, 'Resource not found');

/** Cloud-style, as WhatsApp sends it: HTTP 400 whatever the throttle. */
export const pairRateLimitBody = JSON.stringify({
  error: { message: '(#131056) (Business Account, Consumer Account) pair rate limit hit', type: 'OAuthException', code: 131056, fbtrace_id: 'sim' },
});

/** Outside the 24 h customer-service window: On-Premises 470 (HTTP 400), Cloud 131047 (HTTP 400). */
export const windowClosedBody = errorBody(470, 'Message failed to send because more than 24 hours have passed since the customer last replied to this number');
export const cloudWindowClosedBody = JSON.stringify({
  error: {
    message: '(#131047) Re-engagement message',
    type: 'OAuthException',
    code: 131047,
    error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
    fbtrace_id: 'sim',
  },
});

export function invalidParameterBody(details: string): string {
  return errorBody(1009, 'Parameter value is not valid', details);
}

const failureBodies: Record<SimFailureStatus, string> = {
  400: invalidParameterBody('simulated permanent error'),
  429: errorBody(1015, 'Too many requests'),
  500: errorBody(1014, 'Internal error'),
  503: errorBody(1011, 'Service not ready'),
};

export function failureBody(status: SimFailureStatus): string {
  return failureBodies[status];
}

/** Which CBOT API the simulator plays: On-Premises (`/v1/messages`) or Cloud (`/messages`, Graph errors). */
export type SimApi = 'onprem' | 'cloud';

/** A Graph-style Cloud error body, as CBOT's Cloud API sends it. */
function graphBody(code: number, message: string, details?: string): string {
  return JSON.stringify({
    error: {
      message: `(#${code}) ${message}`,
      type: 'OAuthException',
      code,
      ...(details === undefined ? {} : { error_data: { messaging_product: 'whatsapp', details } }),
      fbtrace_id: 'sim',
    },
  });
}

export const cloudAccessDeniedBody = graphBody(190, 'Invalid OAuth access token');
export const cloudNotFoundBody = graphBody(100, 'Unsupported request: unknown path');

export function cloudInvalidParameterBody(details: string): string {
  return graphBody(100, 'Invalid parameter', details);
}

/** Cloud answers a throttle with HTTP 400 and the code; the other failures keep their status. */
const cloudFailures: Record<SimFailureStatus, { status: number; body: string }> = {
  400: { status: 400, body: cloudInvalidParameterBody('simulated permanent error') },
  429: { status: 400, body: graphBody(130429, 'Rate limit hit', 'Cloud API message throughput has been reached.') },
  500: { status: 500, body: graphBody(131000, 'Something went wrong') },
  503: { status: 503, body: graphBody(131016, 'Service unavailable') },
};

export function cloudFailure(status: SimFailureStatus): { status: number; body: string } {
  return cloudFailures[status];
}

/** Titles of the WhatsApp codes the simulator is asked to answer with by code (fail-next `code`). */
const CODE_TITLES: Record<number, string> = {
  4: 'Application request limit reached',
  368: 'Temporarily blocked for policies violations',
  1015: 'Too many requests',
  80007: 'Rate limit issues',
  130429: 'Rate limit hit',
  131031: 'Account has been locked',
  131047: 'Re-engagement message',
  131048: 'Spam rate limit hit',
  131056: '(Business Account, Consumer Account) pair rate limit hit',
};

export function codeTitle(code: number): string {
  return CODE_TITLES[code] ?? `Simulated error ${code}`;
}

/** An error answer carrying WhatsApp `code`, in the API's own body shape. */
export function codedFailureBody(api: SimApi, code: number): string {
  return api === 'cloud' ? graphBody(code, codeTitle(code)) : errorBody(code, codeTitle(code));
}
