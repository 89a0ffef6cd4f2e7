import { describe, expect, it } from 'vitest';
import { alertChecks } from './alerts.js';

const quiet = { oldestOpenAgeS: 10, deadLetters15m: 0, webhookRegistered: true, subscribers: [{ name: 'crm', oldestWaitingAgeS: 5, deadLetters15m: 0 }], channels: [{ id: 'default', pausedForS: 0 }] };
const firing = (s: typeof quiet) => alertChecks(s).filter((a) => a.firing).map((a) => a.name);

describe('alertChecks', () => {
  it('fires nothing on a quiet relay, and links each rule to its runbook section', () => {
    const checks = alertChecks(quiet);
    expect(firing(quiet)).toEqual([]);
    expect(checks.find((c) => c.name === 'RelayBacklogOldMessage')?.runbook).toBe('relaybacklogoldmessage');
  });

  it('mirrors the thresholds of alerts.yml', () => {
    expect(firing({ ...quiet, oldestOpenAgeS: 901 })).toEqual(['RelayBacklogOldMessage']);
    expect(firing({ ...quiet, oldestOpenAgeS: 3601 })).toEqual(['RelayBacklogOldMessageCritical', 'RelayBacklogOldMessage']);
    expect(firing({ ...quiet, deadLetters15m: 2, webhookRegistered: false })).toEqual(['RelayDeadLettersGrowing', 'RelayCallbacksUnregistered']);
    expect(firing({ ...quiet, subscribers: [{ name: 'crm', oldestWaitingAgeS: 901, deadLetters15m: 1 }] })).toEqual(['RelaySubscriberLagHigh', 'RelayPushDeadLetters']);
    expect(firing({ ...quiet, channels: [{ id: 'eu', pausedForS: 30 }] })).toEqual(['Channel paused']);
  });
});
