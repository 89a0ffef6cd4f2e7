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
