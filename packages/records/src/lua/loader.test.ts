import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LUA_CONSTANTS } from '../history.js';
import { checkHeader, loadLua } from './loader.js';

const scripts = readdirSync(new URL('../../lua/', import.meta.url)).filter((f) => f.endsWith('.lua')).map((f) => f.slice(0, -4));

describe('loadLua', () => {
  it('resolves every include once, dependencies first, and leaves no include line or placeholder', () => {
    const claim = loadLua('claim', LUA_CONSTANTS);
    const text = `${claim.includes}\n${claim.body}`;
    expect(text).not.toMatch(/@include "|\{\{\w+\}\}/);
    // keys.lua is reached through several includes but is in the script once, before its users.
    expect(text.match(/local function kq\(/g)).toHaveLength(1);
    expect(text.indexOf('local function kq(')).toBeLessThan(text.indexOf('local function makeReady('));
    expect(text.indexOf('local function makeReady(')).toBeLessThan(text.indexOf('local function take('));
    expect(claim.header.keys).toEqual(['tat', 'pause', 'fence', 'weights', 'ambiguous', 'idle']);
    expect(claim.header.args[0]).toBe('base');
  });

  it('keeps every script file and every include under 80 lines, each script with a header', () => {
    for (const name of scripts) {
      const src = loadLua(name, LUA_CONSTANTS);
      expect(src.body.split('\n').length, name).toBeLessThanOrEqual(80);
      expect(src.header.keys.length + src.header.args.length, name).toBeGreaterThan(0);
      for (const part of src.includes.split(/\n(?=--\[\[)/)) expect(part.split('\n').length, name).toBeLessThanOrEqual(80);
    }
  });

  it('refuses a missing constant and a call whose names differ from the header', () => {
    expect(() => loadLua('claim')).toThrow(/no constant \{\{STATUS_RANK\}\}/);
    expect(() => checkHeader('pause', 'ARGV', ['millis'], loadLua('pause').header.args)).toThrow(/pause.lua: called with ARGV \[millis\], its header says \[ms\]/);
  });
});
