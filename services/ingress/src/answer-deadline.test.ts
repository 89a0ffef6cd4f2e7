import { describe, expect, it } from 'vitest';
import { AnswerDeadline, AnswerTimeoutError } from './answer-deadline.js';

describe('AnswerDeadline', () => {
  it('counts from its start, leaving out the time the body took to arrive', () => {
    let t = 1_000;
    const d = new AnswerDeadline(2_000, () => t);
    t += 500; // waiting on admission: counted
    expect(d.remainingMs).toBe(1_500);
    d.pause();
    t += 10_000; // a slow client sending its body: not counted
    d.resume();
    expect(d.remainingMs).toBe(1_500);
    d.resume(); // a second resume changes nothing
    t += 1_500;
    expect(d.remainingMs).toBe(0);
  });

  it("gives the work's result in time, and the late error once the time is up", async () => {
    const d = new AnswerDeadline(30);
    await expect(d.within(Promise.resolve('ok'), () => new AnswerTimeoutError('send'))).resolves.toBe('ok');
    const late = d.within(new Promise(() => undefined), () => new AnswerTimeoutError('callback'));
    await expect(late).rejects.toBeInstanceOf(AnswerTimeoutError);
    await expect(late).rejects.toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
  });

  it('refuses at once when no time is left, without an unhandled rejection from the work', async () => {
    let t = 0;
    const d = new AnswerDeadline(10, () => t);
    t = 20;
    await expect(d.within(Promise.reject(new Error('late failure')), () => new AnswerTimeoutError('send'))).rejects.toBeInstanceOf(AnswerTimeoutError);
  });
});
