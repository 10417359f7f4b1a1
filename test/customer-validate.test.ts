import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detailsReplyBytes, detailsReplyProblem, validateCustomer } from '../src/domains/customers/customer.validate.js';
import { formatPath } from '../src/kernel/problems.js';

const US = { defaultCountry: 'US' };
const ok = (input: unknown, options = US) => {
  const result = validateCustomer(input, options);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.value;
};
const fields = (input: unknown) => {
  const result = validateCustomer(input, US);
  assert.ok(!result.ok);
  return result.problems.map((p) => formatPath(p.path));
};

describe('customer record validation', () => {
  test('the example record from the issue is valid and kept as is', () => {
    const record = {
      customer_id: '42',
      display_name: 'Joseph Martin',
      workers: ['alice@example.com'],
      channels: [
        { type: 'sms', value: '+15558675310' },
        { type: 'whatsapp', value: 'whatsapp:+15558675310' },
      ],
      links: [{ type: 'Facebook', value: 'https://www.facebook.com/josephmartin/', display_name: 'Facebook' }],
      details: { title: 'Purchase History', content: 'Product: Unobtanium\n\nQuantity: 1000 units' },
      avatar: 'https://example.com/a.png',
    };
    assert.deepEqual(ok(record).record, record);
  });

  test('numeric ids become strings', () => {
    assert.equal(ok({ customer_id: 42, display_name: 'A' }).record.customer_id, '42');
  });

  test('phone numbers become E.164; whatsapp gets its prefix; national numbers use the default country', () => {
    const gb = ok(
      {
        customer_id: '1',
        display_name: 'A',
        channels: [
          { type: 'sms', value: '020 7183 8750' },
          { type: 'whatsapp', value: '+1 555 867 5311' },
        ],
      },
      { defaultCountry: 'GB' },
    );
    assert.deepEqual(gb.record.channels, [
      { type: 'sms', value: '+442071838750' },
      { type: 'whatsapp', value: 'whatsapp:+15558675311' },
    ]);
    const us = ok({ customer_id: '1', display_name: 'A', channels: [{ type: 'sms', value: '(555) 867-5310' }, { type: 'whatsapp', value: 'whatsapp:555.867.5311' }] });
    assert.deepEqual(us.record.channels, [
      { type: 'sms', value: '+15558675310' },
      { type: 'whatsapp', value: 'whatsapp:+15558675311' },
    ]);
    assert.deepEqual(us.addresses.sort(), ['+15558675310', '+15558675311']);
    assert.equal(us.phoneDigits, '15558675310 15558675311');
  });

  test('derived columns: folded sort key and searchable text', () => {
    const v = ok({ customer_id: '1', display_name: '  José  Ñúñez ', channels: [{ type: 'email', value: 'Jose@Example.COM' }] });
    assert.equal(v.record.display_name, 'José  Ñúñez');
    assert.equal(v.sortKey, 'jose nunez');
    assert.equal(v.searchText, 'jose nunez\njose@example.com');
  });

  test('required fields and their types', () => {
    assert.deepEqual(fields({}), ['customer_id', 'display_name']);
    assert.deepEqual(fields({ customer_id: '', display_name: ' ' }), ['customer_id', 'display_name']);
    assert.deepEqual(fields({ customer_id: ['1'], display_name: 5 }), ['customer_id', 'display_name']);
    assert.deepEqual(fields('not an object'), ['']);
  });

  test('channel types, phone numbers, e-mails', () => {
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'fax', value: '1' }] }), ['channels[0].type']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'sms', value: 'call me' }] }), ['channels[0].value']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'sms', value: '12' }] }), ['channels[0].value']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'email', value: 'nope' }] }), ['channels[0].value']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: 'sms' }), ['channels']);
  });

  test('links and avatars must be absolute URLs of allowed kinds', () => {
    const link = (value: string) => ({ customer_id: '1', display_name: 'A', links: [{ type: 'X', value }] });
    for (const value of ['https://a.example/x', 'http://a.example', 'mailto:a@example.com', 'tel:+15558675310']) ok(link(value));
    for (const value of ['javascript:alert(1)', '/relative', 'ftp://a.example', 'data:text/html,hi']) {
      assert.deepEqual(fields(link(value)), ['links[0].value'], value);
    }
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', avatar: 'mailto:a@example.com' }), ['avatar']);
  });

  test('length limits and single-line names', () => {
    assert.deepEqual(fields({ customer_id: 'x'.repeat(256), display_name: 'A' }), ['customer_id']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A\nB' }), ['display_name']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', details: { title: 'T', content: 'x'.repeat(10_001) } }), ['details.content']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', workers: Array.from({ length: 101 }, (_, i) => `w${i}`) }), ['workers']);
  });

  test('unknown fields are reported (typos do not pass silently)', () => {
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', 'display-name': 'B' }), ['display-name']);
  });

  test('workers are de-duplicated', () => {
    assert.deepEqual(ok({ customer_id: '1', display_name: 'A', workers: ['a', 'b', 'a'] }).record.workers, ['a', 'b']);
  });

  test('worker identities and chat addresses follow the identity rule; numbers are not identities', () => {
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', workers: [123] }), ['workers[0]']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', workers: ['unique'] }), ['workers[0]']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'chat', value: 'system' }] }), ['channels[0].value']);
    assert.deepEqual(fields({ customer_id: '1', display_name: 'A', channels: [{ type: 'sms', value: 'whatsapp:+15558675310' }] }), ['channels[0].value']);
    assert.deepEqual(ok({ customer_id: '1', display_name: 'A', channels: [{ type: 'chat', value: ' joe ' }] }).record.channels, [{ type: 'chat', value: 'joe' }]);
  });

  test('a record whose details reply would pass 65,536 bytes is one problem naming it and the size', () => {
    const links = Array.from({ length: 20 }, (_, i) => ({ type: 'T', value: `https://a.example/${i}/${'p'.repeat(2000)}`, display_name: 'D'.repeat(200) }));
    const record = { customer_id: 'big', display_name: 'Big', links, details: { title: 'T', content: '漢'.repeat(10_000) } };
    const result = validateCustomer(record, US);
    assert.ok(!result.ok);
    const { workers: _, ...dto } = { ...record, workers: [] };
    const bytes = Buffer.byteLength(JSON.stringify({ objects: { customer: dto } }));
    assert.deepEqual(result.problems, [
      {
        path: [],
        message: `customer "big": its Customer Details reply would be ${bytes.toLocaleString('en-US')} bytes, more than the 65,536 the Frontline app accepts (Twilio error 48003); shorten its details, links or channels`,
      },
    ]);
    assert.equal(detailsReplyBytes(dto), bytes);
    assert.equal(detailsReplyProblem({ customer_id: 'small', display_name: 'Small' }), undefined);
  });
});
