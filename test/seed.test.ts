import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCustomers, phoneOf } from '../src/application/files/seed.js';
import { toE164ByFullParse } from '../src/kernel/phone.js';

describe('sample data', () => {
  test('the same options give the same customers', () => {
    const options = { customers: 50, workers: 3, seed: 4 };
    assert.deepEqual([...generateCustomers(options)], [...generateCustomers(options)]);
  });

  test('phone numbers are unique, E.164 as libphonenumber reads them, and spread like real ones', () => {
    const count = 200_000;
    const numbers = new Set<string>();
    const endings = new Map<string, number>();
    const exchanges = new Set<string>();
    for (let i = 0; i < count; i++) {
      const phone = phoneOf(i);
      numbers.add(phone);
      const ending = phone.slice(-7);
      endings.set(ending, (endings.get(ending) ?? 0) + 1);
      exchanges.add(phone.slice(5, 8));
      if (i % 997 === 0) assert.equal(toE164ByFullParse(phone, 'US'), phone, `customer ${i}: ${phone}`);
    }
    assert.equal(numbers.size, count);
    // Counted up from one exchange, each seven-digit ending was held by 798 customers.
    const most = [...endings.values()].reduce((a, b) => Math.max(a, b), 0);
    assert.ok(most <= 3, `at most 3 customers share a seven-digit ending (${most})`);
    assert.equal(exchanges.size, 800);
    // Neighbours in pk order share no area code or exchange.
    assert.notEqual(phoneOf(1).slice(2, 8), phoneOf(0).slice(2, 8));
    assert.notEqual(phoneOf(2).slice(2, 8), phoneOf(1).slice(2, 8));
  });
});
