/**
 * The kernel's validation kit: each rule once, here. The validators of customers,
 * settings files and configuration are tested for how they use them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { conversationsIdentityProblem, MAX_CONVERSATIONS_IDENTITY } from '../src/kernel/frontline.js';
import { checkKeys, formatPath, formatProblem, type Problem, positionText, topLevelList } from '../src/kernel/problems.js';
import { countryCode, identity, key, multiLine, oneOf, phoneNumber, singleLine, unstorableText, url } from '../src/kernel/rules.js';

/** Runs a rule: what it keeps, and the messages it reported. */
function run<T>(rule: (value: unknown, path: readonly (string | number)[], problems: Problem[]) => T | undefined, value: unknown) {
  const problems: Problem[] = [];
  const kept = rule(value, ['f'], problems);
  for (const p of problems) assert.deepEqual(p.path, ['f'], 'a rule reports at the path it is given');
  assert.equal(kept === undefined, problems.length > 0, 'a rule keeps a value or reports why not, never both');
  return { kept, messages: problems.map((p) => p.message) };
}
const kept = <T>(rule: Parameters<typeof run<T>>[0], value: unknown) => {
  const r = run(rule, value);
  assert.deepEqual(r.messages, [], JSON.stringify(value));
  return r.kept;
};
const refused = <T>(rule: Parameters<typeof run<T>>[0], value: unknown) => {
  const r = run(rule, value);
  assert.equal(r.messages.length, 1, `${JSON.stringify(value)} is refused with one message`);
  return r.messages[0] as string;
};

describe('the problem type', () => {
  test('paths, positions and the one-line form the CLI prints', () => {
    assert.equal(formatPath(['categories', 0, 'templates', 2, 'content']), 'categories[0].templates[2].content');
    assert.equal(formatPath([]), '');
    assert.equal(positionText({ line: 3, column: 7 }), 'line 3');
    assert.equal(positionText({ record: 2 }), 'record 2');
    assert.equal(positionText({}), undefined);
    assert.equal(formatProblem({ line: 3, path: ['channels', 0, 'value'], message: 'is bad' }), 'line 3: channels[0].value: is bad');
    assert.equal(formatProblem({ record: 2, path: [], message: 'must be a JSON object' }), 'record 2: must be a JSON object');
    assert.equal(formatProblem({ path: [], message: 'is not valid UTF-8' }, 'file'), 'file: is not valid UTF-8');
    assert.equal(formatProblem({ path: ['PORT'], message: 'is bad' }), 'PORT: is bad');
  });

  test('unknown keys and the top-level list of a settings document', () => {
    const problems: Problem[] = [];
    checkKeys({ a: 1, b: 2 }, ['a'], ['x', 0], problems);
    assert.deepEqual(problems, [{ path: ['x', 0, 'b'], message: 'unknown field; expected a' }]);
    assert.deepEqual(topLevelList({ workers: [1] }, 'workers', []), [1]);
    for (const doc of [[], 'text', { workers: 'x' }, {}]) {
      const found: Problem[] = [];
      assert.equal(topLevelList(doc, 'workers', found), undefined);
      assert.equal(found.length, 1, JSON.stringify(doc));
    }
  });
});

describe('one rule per concept', () => {
  test('single-line text: trimmed, not empty, at most max, no control characters or line breaks', () => {
    const rule = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => singleLine(v, p, ps, 5);
    assert.equal(kept(rule, '  José '), 'José');
    assert.equal(refused(rule, undefined), 'is required');
    assert.equal(refused(rule, 5), 'must be a string');
    assert.equal(refused(rule, '   '), 'must not be empty');
    assert.equal(refused(rule, '123456'), 'must be at most 5 characters');
    for (const v of ['a\nb', 'a\rb', 'a\u2028b', 'a\u0007b', 'a\u0085b']) assert.equal(refused(rule, v), 'must be a single line of text');
  });

  test('multi-line text: kept as written; line breaks and tabs allowed, other control characters not', () => {
    const rule = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => multiLine(v, p, ps, 10);
    assert.equal(kept(rule, ' a\n\tb '), ' a\n\tb ');
    assert.equal(refused(rule, ' \n '), 'must not be empty');
    assert.equal(refused(rule, 'x'.repeat(11)), 'must be at most 10 characters');
    assert.equal(refused(rule, 'a\u0000b'), 'must not contain control characters');
  });

  test('key (a customer id): a string or a whole number JSON holds exactly; compared byte-wise', () => {
    const rule = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => key(v, p, ps, 8);
    assert.equal(kept(rule, 'C-1'), 'C-1');
    assert.equal(kept(rule, 7), '7');
    assert.match(refused(rule, 2 ** 53), /not a whole number JSON holds exactly/);
    assert.match(refused(rule, 1.5), /write it as a string/);
    assert.equal(refused(rule, ' C-1'), 'must not start or end with white space');
    assert.equal(refused(rule, ''), 'must not be empty');
    assert.equal(refused(rule, '123456789'), 'must be at most 8 characters');
    for (const v of ['a\tb', 'a\nb', 'a\uFFFDb']) assert.equal(refused(rule, v), 'must not contain control characters, line breaks or U+FFFD');
    assert.equal(refused(rule, ['C-1']), 'must be a string');
  });

  test('identity: a worker identity or chat address, by Twilio Conversations rules (48033)', () => {
    assert.equal(kept(identity, 'alice@example.com'), 'alice@example.com');
    assert.equal(kept(identity, 'systems'), 'systems');
    assert.equal(kept(identity, `US${'a'.repeat(31)}`), `US${'a'.repeat(31)}`);
    assert.equal(refused(identity, 42), 'is a number (42); write the identity as a quoted string');
    assert.equal(refused(identity, undefined), 'is required');
    assert.equal(refused(identity, 'alice '), 'must not start or end with white space');
    assert.equal(refused(identity, 'al\uFFFDce'), 'must not contain control characters, line breaks or U+FFFD');
    assert.equal(refused(identity, 'x'.repeat(256)), 'must be at most 255 characters');
    for (const reserved of ['system', 'SYSTEM', 'private', 'unique']) assert.match(refused(identity, reserved), /reserved .*48033/);
    assert.match(refused(identity, `US${'0a'.repeat(16)}`), /user SID .*48033/);
    assert.match(refused(identity, `us${'0A'.repeat(16)}`), /user SID/);
    // A chat address may use Frontline's whole 256 characters.
    const chat = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => identity(v, p, ps, MAX_CONVERSATIONS_IDENTITY);
    assert.equal(kept(chat, 'c'.repeat(256)), 'c'.repeat(256));
    assert.equal(refused(chat, 'c'.repeat(257)), 'must be at most 256 characters');
    assert.match(conversationsIdentityProblem('c'.repeat(257)) ?? '', /48033/);
  });

  test('URL: absolute, of the allowed schemes, naming a host when http(s), at most 2048 characters', () => {
    const web = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => url(v, p, ps, ['https', 'http']);
    const link = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => url(v, p, ps, ['https', 'http', 'mailto', 'tel']);
    assert.equal(kept(web, 'https://a.example/x?y#z'), 'https://a.example/x?y#z');
    for (const v of ['mailto:a@example.com', 'tel:+15558675310', 'http://a.example']) assert.equal(kept(link, v), v);
    assert.equal(refused(web, 'mailto:a@example.com'), 'must use https, http, not mailto');
    assert.equal(refused(link, 'javascript:alert(1)'), 'must use https, http, mailto, tel, not javascript');
    assert.equal(refused(web, '/relative'), 'must be an absolute URL (https, http)');
    assert.equal(refused(web, 'https://a.example/' + 'x'.repeat(2048)), 'must be at most 2048 characters');
    assert.equal(refused(web, 7), 'must be a string URL');
  });

  test('phone number: E.164 out; national numbers in the default country; no whatsapp: on sms', () => {
    const us = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => phoneNumber(v, p, ps, { defaultCountry: 'US', channel: 'sms' });
    const whatsapp = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => phoneNumber(v, p, ps, { defaultCountry: 'GB', channel: 'whatsapp' });
    const international = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => phoneNumber(v, p, ps);
    assert.equal(kept(us, ' (555) 867-5310 '), '+15558675310');
    assert.equal(kept(whatsapp, 'whatsapp:020 7183 8750'), '+442071838750');
    assert.equal(kept(international, '+442071838750'), '+442071838750');
    assert.equal(refused(international, '02071838750'), '"02071838750" is not a phone number in international (E.164) form');
    assert.equal(refused(us, 'call me'), '"call me" is not a phone number (E.164 such as +14155550100, or national in US)');
    assert.match(refused(us, 'whatsapp:+15558675310'), /is a WhatsApp address; an sms address is a plain number/);
    assert.match(refused(us, 14155550100), /is a number \(14155550100\); write the phone number as a quoted string/);
    assert.equal(refused(us, undefined), 'is required');
  });

  test('country code: two letters libphonenumber knows, either case, returned in capitals', () => {
    assert.equal(kept(countryCode, 'gb'), 'GB');
    assert.equal(kept(countryCode, 'NO'), 'NO');
    assert.equal(refused(countryCode, 'UK'), '"UK" is not an ISO 3166 code; the United Kingdom is GB');
    for (const v of ['ZZ', 'USA', false]) assert.match(refused(countryCode, v), /is not an ISO 3166 two-letter country code/);
  });

  // Found by the admin API's property test: "\ud800" in a JSON body is a lone surrogate, which a store's driver
  // writes as U+FFFD; the customer written could not be read back (a 500), two ids became one (a 500 on PostgreSQL).
  test('lone surrogates: refused by every text rule, paired ones kept', () => {
    const refusal = 'must be Unicode text: a lone surrogate (such as \\ud800) cannot be stored';
    const rules = {
      singleLine: (v: unknown, p: readonly (string | number)[], ps: Problem[]) => singleLine(v, p, ps, 20),
      multiLine: (v: unknown, p: readonly (string | number)[], ps: Problem[]) => multiLine(v, p, ps, 20),
      key: (v: unknown, p: readonly (string | number)[], ps: Problem[]) => key(v, p, ps, 20),
      identity: (v: unknown, p: readonly (string | number)[], ps: Problem[]) => identity(v, p, ps),
      url: (v: unknown, p: readonly (string | number)[], ps: Problem[]) => url(v, p, ps, ['https']),
    };
    for (const [name, rule] of Object.entries(rules)) {
      const prefix = name === 'url' ? 'https://example.com/' : 'a';
      for (const lone of ['\ud800', '\udbff', '\udc00', '\udfff', 'x\udc00\ud800']) {
        assert.equal(refused(rule, `${prefix}${lone}b`), refusal, `${name}: ${JSON.stringify(lone)}`);
      }
      assert.equal(kept(rule, `${prefix}😀b`), `${prefix}😀b`, name);
    }
    assert.equal(unstorableText('a\u0000b'), 'holds a NUL character (U+0000), which no field may hold');
    assert.equal(unstorableText('a\udc00'), 'holds a lone surrogate (such as \\ud800), which is not Unicode text');
    assert.equal(unstorableText('a😀\ufffd'), undefined);
  });

  test('one of a closed list', () => {
    const rule = (v: unknown, p: readonly (string | number)[], ps: Problem[]) => oneOf(v, p, ps, ['sms', 'whatsapp'] as const);
    assert.equal(kept(rule, 'sms'), 'sms');
    assert.equal(refused(rule, 'SMS'), 'must be one of sms, whatsapp');
  });
});
