import { describe, expect, it } from 'vitest';
import { ScriptError, ScriptErrorCode, scriptErrorFrom } from './errors.js';

describe('scriptErrorFrom', () => {
  it('maps each Redis error reply to its code, and anything else to ERR', () => {
    expect(scriptErrorFrom('accept', 'WRONGTYPE Operation against a key holding the wrong kind of value').code).toBe(ScriptErrorCode.WrongType);
    expect(scriptErrorFrom('accept', "ERR user_script:12: WRONGTYPE Operation against a key script: 'abc'").code).toBe(ScriptErrorCode.WrongType);
    expect(scriptErrorFrom('claim', "OOM command not allowed when used memory > 'maxmemory'.").code).toBe(ScriptErrorCode.OutOfMemory);
    expect(scriptErrorFrom('claim', 'READONLY You can\'t write against a read only replica.').code).toBe(ScriptErrorCode.ReadOnly);
    const other = scriptErrorFrom('claim', 'ERR user_script:3: attempt to compare number with nil');
    expect(other).toBeInstanceOf(ScriptError);
    expect(other.code).toBe(ScriptErrorCode.Script);
    expect(other.message).toBe('claim: ERR user_script:3: attempt to compare number with nil');
  });
});
