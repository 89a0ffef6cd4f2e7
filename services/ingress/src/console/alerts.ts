/** What the console's overview checks, from the relay's own state in Redis. */
export interface RelayState {
  oldestOpenAgeS: number;
  /** Messages that failed in the last 15 minutes. */
  deadLetters15m: number;
  /** Undefined: this relay registers no callback URL. */
  webhookRegistered?: boolean;
  subscribers: { name: string; oldestWaitingAgeS: number; deadLetters15m: number }[];
  channels: { id: string; pausedForS: number }[];
}

export interface AlertCheck {
  /** The rule's name in deploy/prometheus/alerts.yml. */
  name: string;
  severity: 'warning' | 'critical' | 'info';
  firing: boolean;
  detail: string;
  /** Its section in docs/operations.md (the alert's name, lowercased); undefined: no runbook. */
  runbook?: string;
}

const check = (name: string, severity: AlertCheck['severity'], firing: boolean, detail: string, runbook = true): AlertCheck => ({
  name,
  severity,
  firing,
  detail,
  ...(runbook ? { runbook: name.toLowerCase() } : {}),
});

/**
 * The alert rules of deploy/prometheus/alerts.yml that the relay's own state can answer, evaluated
 * now: each rule's condition without its `for:` (a rule shown firing here fires in Prometheus once
 * the condition has held that long). Rules about scrapes (RelayRoleDown, RelayInstanceDown) and
 * counters kept only in process memory (CBOT error rate, ambiguous resends, dropped events) need
 * Prometheus and are not here.
 */
export function alertChecks(s: RelayState): AlertCheck[] {
  const age = Math.round(s.oldestOpenAgeS);
  const lagging = s.subscribers.filter((x) => x.oldestWaitingAgeS > 900);
  const pushDead = s.subscribers.filter((x) => x.deadLetters15m > 0);
  const paused = s.channels.filter((c) => c.pausedForS > 0);
  const out = [
    check('RelayBacklogOldMessageCritical', 'critical', age > 3600, `oldest open message ${age} s old (fires above 3600 s)`),
    check('RelayBacklogOldMessage', 'warning', age > 900, `oldest open message ${age} s old (fires above 900 s)`),
    check('RelayDeadLettersGrowing', 'warning', s.deadLetters15m > 0, `${s.deadLetters15m} messages failed in the last 15 min`),
  ];
  if (s.webhookRegistered !== undefined) {
    out.push(check('RelayCallbacksUnregistered', 'critical', !s.webhookRegistered, s.webhookRegistered ? 'CBOT holds the callback URL' : 'CBOT does not hold the callback URL'));
  }
  out.push(
    check(
      'RelaySubscriberLagHigh',
      'warning',
      lagging.length > 0,
      lagging.length > 0 ? lagging.map((x) => `${x.name}: oldest waiting ${Math.round(x.oldestWaitingAgeS)} s`).join('; ') : 'no subscriber has an event waiting over 900 s',
    ),
    check(
      'RelayPushDeadLetters',
      'warning',
      pushDead.length > 0,
      pushDead.length > 0 ? pushDead.map((x) => `${x.name}: ${x.deadLetters15m} dead letters`).join('; ') : 'no subscriber delivery dead-lettered in the last 15 min',
    ),
    check(
      'Channel paused',
      'info',
      paused.length > 0,
      paused.length > 0 ? paused.map((c) => `${c.id}: paused ${Math.ceil(c.pausedForS)} s more`).join('; ') : 'every channel is sending',
      false,
    ),
  );
  return out;
}
