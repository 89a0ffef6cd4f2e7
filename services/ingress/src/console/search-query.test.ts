import { describe, expect, it } from 'vitest';
import { parseSearch } from './search-query.js';

describe('parseSearch', () => {
  it('reads a phone number in any spelling as the recipient key', () => {
    for (const q of ['+49 (151) 234-5678', '49151 2345678', '+49.151.234.5678', ' 491512345678 ']) {
      expect(parseSearch(q)).toEqual({ kind: 'phone', to: '491512345678' });
    }
  });

  it('tells relay ids, wamids and nothing apart', () => {
    expect(parseSearch('msg_0123456789abcdef012345678')).toEqual({ kind: 'id', id: 'msg_0123456789abcdef012345678' });
    expect(parseSearch('wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI')).toEqual({ kind: 'wamid', wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI' });
    expect(parseSearch('  ')).toEqual({ kind: 'none' });
    expect(parseSearch(undefined)).toEqual({ kind: 'none' });
  });
});
