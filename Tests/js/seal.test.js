// Tests for Sources/TipServer/Resources/static/seal.js (SECURITY.md §2.1, §2.2, §3.2–§3.4),
// run with `node --test Tests/js/`. tweetnacl is Debian's node-tweetnacl.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');

const STATIC = path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static');
const seal = require(path.join(STATIC, 'seal.js'));
const blake2b = require(path.join(STATIC, 'blake2b.js'));
const nacl = require('/usr/share/nodejs/tweetnacl/nacl-fast.js'); // the instance seal.js uses

const b64 = (u) => Buffer.from(u).toString('base64');
const utf8 = (s) => new TextEncoder().encode(s);

// The public test key of SECURITY.md §2.1 (its secret half is public too: test only).
const TEST_KEY = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'Vectors', 'test-only-key.json'), 'utf8'));
const TEST_PK = new Uint8Array(Buffer.from(TEST_KEY.public_key, 'base64'));
const TEST_KEY_ID = 'ba5d987fcd4768d2';
const TEST_FINGERPRINT = 'ba5d 987f cd47 68d2 a48e 2635 231f 3bde 5825 9392 93f1 c770 3c28 c0c6 64d5 8e9b';

function keyDocumentFor(pk) {
  return { v: 1, key_id: seal.keyIdOf(pk), public_key: b64(pk), fingerprint: seal.fingerprintOf(pk) };
}

function code(fn) {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  return 'no error';
}

// Opens a sealed box as crypto_box_seal_open does, with tweetnacl and the nonce recomputed.
function openSealed(sealed, pk, sk) {
  const epk = sealed.subarray(0, 32);
  const nonce = blake2b(Buffer.concat([epk, pk]), 24);
  return nacl.box.open(sealed.subarray(32), nonce, epk, sk);
}

// Removes ISO/IEC 7816-4 padding, checking it as an opener must (§3.3).
function unpad(padded) {
  const n = padded.length;
  assert.ok(n >= 1024 && (n & (n - 1)) === 0, 'padded length is a power of two >= 1024');
  let i = n - 1;
  while (padded[i] === 0) i--;
  assert.equal(padded[i], 0x80, 'the 0x80 marker');
  let size = 1024;
  while (size < i + 1) size *= 2;
  assert.equal(size, n, 'the smallest size class');
  return padded.subarray(0, i);
}

function openSubmission(submission, pk, sk) {
  const sealed = new Uint8Array(Buffer.from(submission.sealed, 'base64'));
  assert.equal(b64(sealed), submission.sealed, 'canonical base64');
  const padded = openSealed(sealed, pk, sk);
  assert.ok(padded, 'nacl.box.open opens the sealed box');
  return { sealedLength: sealed.length, doc: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(unpad(padded))) };
}

// --- §2.1 ------------------------------------------------------------------------------

test('key id and fingerprint of the test key match SECURITY.md §2.1', () => {
  assert.equal(seal.keyIdOf(TEST_PK), TEST_KEY_ID);
  assert.equal(seal.fingerprintOf(TEST_PK), TEST_FINGERPRINT);
  assert.equal(code(() => seal.keyIdOf(new Uint8Array(31))), 'invalid_public_key');
});

// --- §2.2 ------------------------------------------------------------------------------

test('verifyKeyDocument accepts a good document, as an object or as text', () => {
  const doc = { fingerprint: TEST_FINGERPRINT, key_id: TEST_KEY_ID, public_key: TEST_KEY.public_key, v: 1 };
  for (const d of [doc, JSON.stringify(doc) + '\n']) {
    const key = seal.verifyKeyDocument(d);
    assert.equal(key.keyId, TEST_KEY_ID);
    assert.equal(key.fingerprint, TEST_FINGERPRINT);
    assert.deepEqual(Array.from(key.publicKey), Array.from(TEST_PK));
  }
});

test('verifyKeyDocument refuses a bad document with the §2.2 code', () => {
  const good = keyDocumentFor(TEST_PK);
  const other = keyDocumentFor(nacl.box.keyPair().publicKey);
  const cases = [
    ['wrong key_id', Object.assign({}, good, { key_id: other.key_id }), 'key_id_mismatch'],
    ['wrong fingerprint', Object.assign({}, good, { fingerprint: other.fingerprint }), 'fingerprint_mismatch'],
    ['fingerprint without spaces', Object.assign({}, good, { fingerprint: good.fingerprint.replace(/ /g, '') }), 'fingerprint_mismatch'],
    ['unknown member', Object.assign({}, good, { comment: 'x' }), 'invalid_json'],
    ['__proto__ member', JSON.parse(JSON.stringify(good).replace('{', '{"__proto__":{},')), 'invalid_json'],
    ['missing member', { v: 1, key_id: good.key_id, public_key: good.public_key }, 'invalid_json'],
    ['v as a string', Object.assign({}, good, { v: '1' }), 'invalid_json'],
    ['not an object', [good], 'invalid_json'],
    ['not JSON', '{"v":1,', 'invalid_json'],
    ['v 2', Object.assign({}, good, { v: 2 }), 'unsupported_version'],
    ['uppercase key_id', Object.assign({}, good, { key_id: good.key_id.toUpperCase() }), 'invalid_key_id'],
    ['short key_id', Object.assign({}, good, { key_id: good.key_id.slice(2) }), 'invalid_key_id'],
    ['base64 url alphabet', Object.assign({}, good, { public_key: good.public_key.replace(/\+/g, '-').replace(/\//g, '_') }), 'invalid_public_key'],
    ['base64 without padding', Object.assign({}, good, { public_key: good.public_key.replace(/=+$/, '') }), 'invalid_public_key'],
    ['base64 with a line break', Object.assign({}, good, { public_key: good.public_key.slice(0, 20) + '\n' + good.public_key.slice(20) }), 'invalid_public_key'],
    ['base64 with stray bits', Object.assign({}, good, { public_key: good.public_key.slice(0, 42) + 'N=' }), 'invalid_public_key'],
    ['base64 of 31 bytes', Object.assign({}, good, { public_key: b64(TEST_PK.subarray(0, 31)) }), 'invalid_public_key'],
    ['base64 of 33 bytes', Object.assign({}, good, { public_key: b64(Buffer.concat([TEST_PK, Buffer.from([0])])) }), 'invalid_public_key'],
  ];
  assert.ok(TEST_KEY.public_key.endsWith('M='), 'the stray-bits case assumes this key');
  for (const [name, doc, expected] of cases) {
    assert.equal(code(() => seal.verifyKeyDocument(doc)), expected, name);
  }
});

// --- §3.2 ------------------------------------------------------------------------------

function build(tip) {
  return JSON.parse(Buffer.from(seal.buildDocument(tip)).toString('utf8'));
}

test('buildDocument writes v, body, fields and lang, omitting empty fields and no lang', () => {
  assert.deepEqual(build({ body: 'Привет' }), { v: 1, body: 'Привет' });
  assert.deepEqual(build({ body: 'x', fields: {}, lang: undefined }), { v: 1, body: 'x' });
  assert.deepEqual(build({ body: 'x', fields: { where: 'Ош' }, lang: 'uz-Latn' }),
    { v: 1, body: 'x', fields: { where: 'Ош' }, lang: 'uz-Latn' });
  assert.equal(Buffer.from(seal.buildDocument({ body: 'a/b' })).toString('utf8'), '{"v":1,"body":"a/b"}');
});

test('buildDocument: body of 1 to 262144 UTF-8 bytes', () => {
  assert.equal(code(() => seal.buildDocument({ body: '' })), 'empty_body');
  assert.equal(code(() => seal.buildDocument({})), 'empty_body');
  assert.deepEqual(build({ body: 'ж' }), { v: 1, body: 'ж' });
  const max = 'ж'.repeat(131072); // 131072 characters, 262144 bytes
  assert.equal(build({ body: max }).body, max);
  assert.equal(code(() => seal.buildDocument({ body: max + 'a' })), 'body_too_long');
});

test('buildDocument: at most 32 fields', () => {
  const fields = {};
  for (let i = 0; i < 32; i++) fields['поле' + i] = 'значение';
  assert.equal(Object.keys(build({ body: 'x', fields }).fields).length, 32);
  fields.extra = '';
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields })), 'too_many_fields');
});

test('buildDocument: field names 1 to 64 bytes, values at most 4096 bytes', () => {
  const name64 = 'я'.repeat(32);
  const value4096 = 'ж'.repeat(2048);
  assert.equal(build({ body: 'x', fields: { [name64]: value4096 } }).fields[name64], value4096);
  assert.deepEqual(build({ body: 'x', fields: { where: '' } }).fields, { where: '' });
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: { [name64 + 'a']: 'v' } })), 'bad_field');
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: { '': 'v' } })), 'bad_field');
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: { where: value4096 + 'a' } })), 'bad_field');
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: { where: 5 } })), 'bad_field');
});

test('buildDocument: lang is 1 to 35 bytes of [A-Za-z0-9-]', () => {
  assert.equal(build({ body: 'x', lang: 'ru' }).lang, 'ru');
  assert.equal(build({ body: 'x', lang: 'a'.repeat(35) }).lang, 'a'.repeat(35));
  for (const bad of ['', 'ru_RU', 'ру', 'a'.repeat(36), 'ru ', 5]) {
    assert.equal(code(() => seal.buildDocument({ body: 'x', lang: bad })), 'bad_lang', String(bad));
  }
});

test('buildDocument: checks run in the order of §3.2', () => {
  const many = {};
  for (let i = 0; i < 33; i++) many['f' + i] = 'x'.repeat(5000);
  assert.equal(code(() => seal.buildDocument({ body: '', fields: many, lang: '' })), 'empty_body');
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: many, lang: '' })), 'too_many_fields');
  assert.equal(code(() => seal.buildDocument({ body: 'x', fields: { f: 'x'.repeat(5000) }, lang: '' })), 'bad_field');
});

test('buildDocument: tip_too_large when JSON escaping pushes a valid body past 1 MiB', () => {
  assert.equal(code(() => seal.buildDocument({ body: '\u0001'.repeat(262144) })), 'tip_too_large'); // 6 bytes each
  const escaped = '\u0001'.repeat(174000); // 1044000 bytes once escaped: still fits
  assert.equal(build({ body: escaped }).body, escaped);
});

test('buildDocument: unpaired surrogates become U+FFFD; a "__proto__" field is kept', () => {
  assert.equal(build({ body: 'a\ud800b' }).body, 'a\ufffdb');
  assert.equal(build({ body: '\udc00' }).body, '\ufffd');
  assert.equal(build({ body: '😀' }).body, '😀');
  const doc = build({ body: 'x', fields: JSON.parse('{"__proto__":"v"}') });
  assert.deepEqual(Object.keys(doc.fields), ['__proto__']);
});

// --- §3.3 ------------------------------------------------------------------------------

test('pad: smallest power of two >= 1024 holding the document and the 0x80 marker', () => {
  for (const [len, size] of [[0, 1024], [1, 1024], [1023, 1024], [1024, 2048], [2047, 2048], [2048, 4096], [1048575, 1048576]]) {
    const doc = new Uint8Array(len).fill(0x41);
    const padded = seal.pad(doc);
    assert.equal(padded.length, size, `${len} bytes`);
    assert.equal(padded[len], 0x80, 'marker right after the document');
    assert.ok(padded.subarray(0, len).every((b) => b === 0x41), 'document unchanged');
    assert.ok(padded.subarray(len + 1).every((b) => b === 0), 'zeros after the marker');
  }
  assert.equal(code(() => seal.pad(new Uint8Array(1048576))), 'tip_too_large');
  assert.equal(code(() => seal.pad(new Uint8Array(1024), 1024)), 'tip_too_large');
});

// --- §3.4 ------------------------------------------------------------------------------

test('sealedBox is crypto_box_seal: epk || box with nonce BLAKE2b-192(epk || pk)', () => {
  const kp = nacl.box.keyPair();
  const padded = seal.pad(utf8('{"v":1,"body":"x"}'));
  const copy = padded.slice();
  const a = seal.sealedBox(padded, kp.publicKey);
  const b = seal.sealedBox(padded, kp.publicKey);
  assert.equal(a.length, 1024 + 48);
  assert.notDeepEqual(Array.from(a.subarray(0, 32)), Array.from(b.subarray(0, 32)), 'a fresh ephemeral key per seal');
  assert.deepEqual(Array.from(padded), Array.from(copy), 'sealedBox leaves its input alone');
  assert.deepEqual(Array.from(openSealed(a, kp.publicKey, kp.secretKey)), Array.from(copy));
  assert.equal(openSealed(a, kp.publicKey, nacl.box.keyPair().secretKey), null, 'another key cannot open it');
  const tampered = a.slice();
  tampered[100] ^= 1;
  assert.equal(openSealed(tampered, kp.publicKey, kp.secretKey), null, 'a changed byte is detected');
});

test('sealedBox refuses a public key of small order, as libsodium does', () => {
  assert.equal(code(() => seal.sealedBox(new Uint8Array(1024), new Uint8Array(32))), 'invalid_public_key');
  const one = new Uint8Array(32);
  one[0] = 1;
  assert.equal(code(() => seal.sealedBox(new Uint8Array(1024), one)), 'invalid_public_key');
});

test('sealTip round trip: nacl.box.open with the recomputed nonce gives the document back', () => {
  const kp = nacl.box.keyPair();
  const tips = [
    { body: 'Они забрали паспорта у рабочих.\nСтройка у рынка.', fields: { where: 'Самарканд', when: 'вчера', kind: 'forced_labour', contact: 'Signal +998 …' }, lang: 'ru' },
    { body: 'x' },
    { body: 'Z'.repeat(5000), fields: { kind: 'other' } },
  ];
  for (const tip of tips) {
    const submission = seal.sealTip(tip, keyDocumentFor(kp.publicKey));
    assert.deepEqual(Object.keys(submission), ['v', 'key_id', 'sealed']);
    assert.equal(submission.v, 1);
    assert.equal(submission.key_id, seal.keyIdOf(kp.publicKey));
    const opened = openSubmission(submission, kp.publicKey, kp.secretKey);
    const expected = Object.assign({ v: 1 }, tip);
    assert.deepEqual(opened.doc, expected);
    const docLength = seal.buildDocument(tip).length;
    assert.equal(opened.sealedLength, seal.pad(new Uint8Array(docLength)).length + 48);
  }
  assert.equal(openSubmission(seal.sealTip(tips[2], keyDocumentFor(kp.publicKey)), kp.publicKey, kp.secretKey).sealedLength, 8192 + 48);
});

test('sealTip refuses a bad key document and an invalid tip', () => {
  const doc = keyDocumentFor(nacl.box.keyPair().publicKey);
  assert.equal(code(() => seal.sealTip({ body: 'x' }, Object.assign({}, doc, { key_id: '0000000000000000' }))), 'key_id_mismatch');
  assert.equal(code(() => seal.sealTip({ body: '' }, doc)), 'empty_body');
});

test('sealTip zeroes the padded plaintext, the ephemeral secret key and the shared key', () => {
  const kp = nacl.box.keyPair();
  const seen = {};
  const keyPair = nacl.box.keyPair;
  const before = nacl.box.before;
  const after = nacl.box.after;
  nacl.box.keyPair = function () { seen.eph = keyPair.apply(this, arguments); return seen.eph; };
  nacl.box.before = function () { seen.shared = before.apply(this, arguments); return seen.shared; };
  nacl.box.after = function (msg) { seen.padded = msg; seen.plainWhileSealing = msg.some((b) => b !== 0); return after.apply(this, arguments); };
  let submission;
  try {
    submission = seal.sealTip({ body: 'секрет' }, keyDocumentFor(kp.publicKey));
  } finally {
    nacl.box.keyPair = keyPair;
    nacl.box.before = before;
    nacl.box.after = after;
  }
  assert.ok(seen.plainWhileSealing, 'the plaintext was there while sealing');
  assert.ok(seen.padded.every((b) => b === 0), 'padded plaintext zeroed');
  assert.ok(seen.eph.secretKey.every((b) => b === 0), 'ephemeral secret key zeroed');
  assert.ok(seen.shared.every((b) => b === 0), 'shared key zeroed');
  assert.equal(openSubmission(submission, kp.publicKey, kp.secretKey).doc.body, 'секрет');
});

test('the test key document verifies and seals', () => {
  const sk = new Uint8Array(Buffer.from(TEST_KEY.secret_key, 'base64'));
  const doc = { v: 1, key_id: TEST_KEY_ID, public_key: TEST_KEY.public_key, fingerprint: TEST_FINGERPRINT };
  const submission = seal.sealTip({ body: 'test', lang: 'en' }, doc);
  assert.equal(submission.key_id, TEST_KEY_ID);
  assert.deepEqual(openSubmission(submission, TEST_PK, sk).doc, { v: 1, body: 'test', lang: 'en' });
});

// --- Tests/js/seal-cli.js ----------------------------------------------------------------

test('seal-cli.js prints one submission line that opens to the tip', (t) => {
  const kp = nacl.box.keyPair();
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tipgate-seal-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'key.json');
  fs.writeFileSync(keyFile, JSON.stringify(keyDocumentFor(kp.publicKey)) + '\n');
  const cli = path.join(__dirname, 'seal-cli.js');
  const body = '\ufeffВ доме 5 держат девушек.\r\nТелефоны отобраны.\n';
  const r = spawnSync(process.execPath,
    [cli, keyFile, '--lang', 'ru', '--field', 'where=Бишкек, дом 5', '--field', 'note=a=b', '--field=kind=sexual_exploitation'],
    { input: Buffer.from(body, 'utf8') });
  assert.equal(r.status, 0, r.stderr.toString());
  const out = r.stdout.toString();
  assert.ok(out.endsWith('\n') && out.indexOf('\n') === out.length - 1, 'one line');
  const opened = openSubmission(JSON.parse(out), kp.publicKey, kp.secretKey);
  assert.deepEqual(opened.doc, { v: 1, body, fields: { where: 'Бишкек, дом 5', note: 'a=b', kind: 'sexual_exploitation' }, lang: 'ru' });

  const bad = Object.assign(keyDocumentFor(kp.publicKey), { key_id: '0123456789abcdef' });
  fs.writeFileSync(keyFile, JSON.stringify(bad));
  const failures = [
    [[cli, keyFile], Buffer.from('x'), /key_id_mismatch/],
    [[cli, path.join(dir, 'missing.json')], Buffer.from('x'), /cannot read/],
    [[cli], Buffer.from('x'), /missing PUBLIC_KEY_JSON/],
    [[cli, keyFile, '--colour'], Buffer.from('x'), /unknown option/],
  ];
  fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify(keyDocumentFor(kp.publicKey)));
  const good = path.join(dir, 'good.json');
  failures.push([[cli, good], Buffer.from([0x66, 0xff]), /not valid UTF-8/]);
  failures.push([[cli, good], Buffer.alloc(0), /empty_body/]);
  failures.push([[cli, good, '--lang', 'ru RU'], Buffer.from('x'), /bad_lang/]);
  failures.push([[cli, good, '--field', 'novalue'], Buffer.from('x'), /name=value/]);
  for (const [args, input, pattern] of failures) {
    const f = spawnSync(process.execPath, args, { input });
    assert.equal(f.status, 1, args.join(' '));
    assert.equal(f.stdout.length, 0);
    assert.match(f.stderr.toString(), pattern);
  }
});
