import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvNumber, spreadsheetSafeText } from './exports';

describe('spreadsheetSafeText', () => {
  it.each(['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1:A9)', '\t=1', '\r=1'])('puts a quote before a cell that starts a formula: %j', (text) => {
    expect(spreadsheetSafeText(text)).toBe(`'${text}`);
  });

  it.each(['Push day', '5x5 @ RPE 8', ' =not first', "'quoted", 'día de pierna', ''])('leaves other text alone: %j', (text) => {
    expect(spreadsheetSafeText(text)).toBe(text);
  });

  it('leaves an absent value absent', () => {
    expect(spreadsheetSafeText(null)).toBeNull();
  });

  it('never returns a cell starting with a formula character, and only ever adds the one quote', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const safe = spreadsheetSafeText(text) ?? '';
        expect(['=', '+', '-', '@', '\t', '\r']).not.toContain(safe.charAt(0));
        expect(safe === text || safe === `'${text}`).toBe(true);
      }),
    );
  });
});

describe('csvNumber', () => {
  it('rounds to at most 3 decimal places and keeps exact values as they are', () => {
    expect(csvNumber(220.46226218487757)).toBe(220.462);
    expect(csvNumber(3.1068559611866697)).toBe(3.107);
    expect(csvNumber('102.5')).toBe(102.5);
    expect(csvNumber(8)).toBe(8);
    expect(csvNumber(-0.0001)).toBe(0);
  });

  it('gives absent values (and non-numbers) as null', () => {
    expect(csvNumber(null)).toBeNull();
    expect(csvNumber(undefined)).toBeNull();
    expect(csvNumber('NaN')).toBeNull();
  });
});
