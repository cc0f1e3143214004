// Tests of the signed keyring in Sources/TipServer/Resources/static/seal.js (SECURITY.md §2.5):
// verifyKeyring, currentKey, keyStatus, keyDocumentOf. Keyrings are made here with tweetnacl's
// Ed25519 exactly as §2.5 says; run with `node --test Tests/js/`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const STATIC = path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static');
const seal = require(path.join(STATIC, 'seal.js'));
const blake2b = require(path.join(STATIC, 'blake2b.js'));
const nacl = require('/usr/share/nodejs/tweetnacl/nacl-fast.js'); // the instance seal.js uses

const b64 = (u) => Buffer.from(u).toString('base64');
const utf8 = (s) => new Uint8Array(Buffer.from(s, 'utf8'));
const hex = (u) => Buffer.from(u).toString('hex');

const TODAY = '2026-03-10';
const CONTEXT = 'tipgate-keyring-v1';

// §2.1, computed here from BLAKE2b directly, not with seal.keyIdOf.
function keyId(pk) {
  return hex(blake2b(pk, 32).subarray(0, 8));
}

function intakeKey(notBefore, notAfter) {
  const kp = nacl.box.keyPair();
  const entry = { key_id: keyId(kp.publicKey), public_key: b64(kp.publicKey), not_before: notBefore };
  if (notAfter !== undefined) entry.not_after = notAfter;
  return { entry, publicKey: kp.publicKey, secretKey: kp.secretKey };
}

function payloadFor(root, entries, over) {
  return Object.assign({
    v: 1, serial: 7, issued: '2026-03-01', expires: '2026-05-30', root_key_id: keyId(root.publicKey),
    intake_keys: entries,
    scripts: { 'app.js': 'sha512-' + b64(new Uint8Array(64)), 'seal.js': 'sha512-' + b64(new Uint8Array(64).fill(1)) },
  }, over || {});
}

// The keyring file of §2.5: P kept as written, signed by `signer` (default: the root) over
// "tipgate-keyring-v1" ‖ 0x00 ‖ P. `payload` is an object (written as JSON) or P's exact text.
function keyringFile(root, payload, opts) {
  const o = opts || {};
  const p = typeof payload === 'string' ? utf8(payload) : utf8(JSON.stringify(payload));
  const message = Buffer.concat([Buffer.from(CONTEXT, 'ascii'), Buffer.from([0]), Buffer.from(p)]);
  const signature = nacl.sign.detached(new Uint8Array(message), (o.signer || root).secretKey);
  return { v: 1, payload: b64(p), root_public_key: b64((o.claimedRoot || root).publicKey), signature: b64(signature) };
}

const text = (file) => JSON.stringify(file) + '\n';

function code(fn) {
  try {
    fn();
  } catch (e) {
    return e.code || (e instanceof TypeError ? 'TypeError' : 'no code: ' + e.message);
  }
  return 'no error';
}

// One root, one good keyring, reused by the failure tests.
const ROOT = nacl.sign.keyPair();
const K1 = intakeKey('2026-03-01');
const GOOD = keyringFile(ROOT, payloadFor(ROOT, [K1.entry]));

function verifyCode(file, today) {
  return code(() => seal.verifyKeyring(typeof file === 'string' ? file : text(file), ROOT.publicKey, today || TODAY));
}

test('a good keyring verifies, as text, as bytes and as a parsed object', () => {
  for (const f of [text(GOOD), utf8(text(GOOD)), JSON.parse(text(GOOD))]) {
    const p = seal.verifyKeyring(f, ROOT.publicKey, TODAY);
    assert.equal(p.v, 1);
    assert.equal(p.serial, 7);
    assert.equal(p.expires, '2026-05-30');
    assert.equal(p.root_key_id, keyId(ROOT.publicKey));
    assert.deepEqual(p.intake_keys, [K1.entry]);
    assert.equal(p.scripts['app.js'], 'sha512-' + b64(new Uint8Array(64)));
    assert.deepEqual(seal.currentKey(p, TODAY), K1.entry);
  }
});

test('wrong root: signed and named by another root (wrong_root)', () => {
  const other = nacl.sign.keyPair();
  const file = keyringFile(other, payloadFor(other, [K1.entry]));
  assert.equal(verifyCode(file), 'wrong_root');
  // Checked before the signature: another root with a broken signature is still wrong_root.
  assert.equal(verifyCode(Object.assign({}, file, { signature: GOOD.signature })), 'wrong_root');
  // Checked byte for byte against the pinned key.
  const pinned = new Uint8Array(ROOT.publicKey);
  pinned[31] ^= 1;
  assert.equal(code(() => seal.verifyKeyring(text(GOOD), pinned, TODAY)), 'wrong_root');
});

test('forged signature: named root, signed by another key (bad_signature)', () => {
  const forger = nacl.sign.keyPair();
  const file = keyringFile(ROOT, payloadFor(ROOT, [K1.entry]), { signer: forger });
  assert.equal(file.root_public_key, b64(ROOT.publicKey));
  assert.equal(verifyCode(file), 'bad_signature');
  // Every bit of the signature counts.
  const sig = Buffer.from(GOOD.signature, 'base64');
  for (const i of [0, 31, 32, 63]) {
    const s = Buffer.from(sig);
    s[i] ^= 0x01;
    assert.equal(verifyCode(Object.assign({}, GOOD, { signature: b64(s) })), 'bad_signature', 'bit flipped in byte ' + i);
  }
  // A signature over P alone, without the context, is not a keyring signature.
  const p = utf8(JSON.stringify(payloadFor(ROOT, [K1.entry])));
  const bare = nacl.sign.detached(p, ROOT.secretKey);
  assert.equal(verifyCode(Object.assign({}, GOOD, { payload: b64(p), signature: b64(bare) })), 'bad_signature');
  // Nor is one over another context.
  const otherContext = nacl.sign.detached(new Uint8Array(Buffer.concat([Buffer.from('tipgate-keyring-v2\0'), p])), ROOT.secretKey);
  assert.equal(verifyCode(Object.assign({}, GOOD, { payload: b64(p), signature: b64(otherContext) })), 'bad_signature');
});

test('payload changed but still valid JSON: the signature fails before P is read (bad_signature)', () => {
  const original = Buffer.from(GOOD.payload, 'base64').toString('utf8');
  const attacker = nacl.box.keyPair();
  const changes = [
    ['serial', original.replace('"serial":7', '"serial":8')],
    ['expires', original.replace('"expires":"2026-05-30"', '"expires":"2036-05-30"')],
    ['a key swapped', original.replace(K1.entry.public_key, b64(attacker.publicKey)).replace(K1.entry.key_id, keyId(attacker.publicKey))],
    ['reformatted only', JSON.stringify(JSON.parse(original), null, 1)],
    ['trailing newline', original + '\n'],
    ['not a keyring at all', '{"hello":"world"}'],
  ];
  for (const [name, p] of changes) {
    assert.notEqual(p, original, name);
    JSON.parse(p); // still valid JSON
    assert.equal(verifyCode(Object.assign({}, GOOD, { payload: b64(utf8(p)) })), 'bad_signature', name);
  }
});

test('truncated file (bad_keyring)', () => {
  const t = text(GOOD);
  for (const n of [0, 1, 10, 40, Math.floor(t.length / 2), t.length - 30, t.length - 3, t.length - 2]) {
    assert.equal(verifyCode(t.slice(0, n)), 'bad_keyring', 'cut to ' + n + ' characters');
  }
  assert.equal(verifyCode(t.slice(0, t.length - 1)), 'no error', 'only the final LF removed');
  // Truncated inside the payload's base64 but still closed JSON.
  assert.equal(verifyCode(Object.assign({}, GOOD, { payload: GOOD.payload.slice(0, 40) })), 'bad_signature');
  assert.equal(verifyCode(Object.assign({}, GOOD, { payload: GOOD.payload.slice(0, 41) })), 'bad_keyring');
  assert.equal(verifyCode(Object.assign({}, GOOD, { signature: GOOD.signature.slice(0, 84) })), 'bad_keyring');
  assert.equal(verifyCode(utf8(t).subarray(0, 100)), 'bad_keyring');
});

test('unknown member in the wrapper (bad_keyring)', () => {
  assert.equal(verifyCode(Object.assign({}, GOOD, { comment: 'x' })), 'bad_keyring');
  assert.equal(verifyCode(text(GOOD).replace('{', '{"__proto__":{},')), 'bad_keyring');
  assert.equal(verifyCode(text(GOOD).replace('{', '{"constructor":1,')), 'bad_keyring');
});

test('unknown member in the payload, signed by the root (bad_keyring)', () => {
  const cases = [
    ['top level', payloadFor(ROOT, [K1.entry], { comment: 'x' })],
    ['forwarding_key, reserved', payloadFor(ROOT, [K1.entry], { forwarding_key: K1.entry.public_key })],
    ['in an intake key', payloadFor(ROOT, [Object.assign({}, K1.entry, { status: 'active' })])],
    ['__proto__', JSON.stringify(payloadFor(ROOT, [K1.entry])).replace('{', '{"__proto__":{},')],
  ];
  for (const [name, p] of cases) {
    assert.equal(verifyCode(keyringFile(ROOT, p)), 'bad_keyring', name);
  }
});

test('expired: refused from the day after expires (keyring_expired)', () => {
  assert.equal(verifyCode(GOOD, '2026-05-30'), 'no error', 'the expiry day itself');
  assert.equal(verifyCode(GOOD, '2026-05-31'), 'keyring_expired');
  assert.equal(verifyCode(GOOD, '2027-01-01'), 'keyring_expired');
  const old = keyringFile(ROOT, payloadFor(ROOT, [K1.entry], { issued: '2025-01-01', expires: '2025-12-31' }));
  assert.equal(verifyCode(old, '2026-01-01'), 'keyring_expired');
  // Expiry is judged only on a keyring whose signature holds.
  assert.equal(verifyCode(Object.assign({}, old, { signature: GOOD.signature }), '2026-01-01'), 'bad_signature');
  assert.equal(code(() => seal.verifyKeyring(text(GOOD), ROOT.publicKey, '2026-3-10')), 'TypeError');
  assert.equal(code(() => seal.verifyKeyring(text(GOOD), ROOT.publicKey, '2026-02-30')), 'TypeError');
});

test('key id not derived from its key (bad_keyring)', () => {
  const other = nacl.box.keyPair();
  const swapped = Object.assign({}, K1.entry, { key_id: keyId(other.publicKey) });
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [swapped]))), 'bad_keyring');
  const second = intakeKey('2026-03-05');
  const lying = Object.assign({}, second.entry, { key_id: K1.entry.key_id.replace(/^./, (c) => (c === '0' ? '1' : '0')) });
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [K1.entry, lying]))), 'bad_keyring', 'the second of two');
});

test('root_key_id not the signing root (bad_keyring)', () => {
  const other = nacl.sign.keyPair();
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [K1.entry], { root_key_id: keyId(other.publicKey) }))), 'bad_keyring');
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [K1.entry], { root_key_id: keyId(ROOT.publicKey).toUpperCase() }))), 'bad_keyring');
  // The intake key's id is not the root's either.
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [K1.entry], { root_key_id: K1.entry.key_id }))), 'bad_keyring');
});

// Sets an unused low bit of the last base64 symbol: same bytes, a non-canonical text.
function strayBits(text64) {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const m = /(.)(=+)$/.exec(text64);
  const changed = text64.slice(0, m.index) + ALPHABET[ALPHABET.indexOf(m[1]) ^ 1] + m[2];
  assert.deepEqual(Buffer.from(changed, 'base64'), Buffer.from(text64, 'base64'));
  return changed;
}

test('the wrapper is closed and strict (§1)', () => {
  const pkText = GOOD.root_public_key;
  const cases = [
    ['missing signature', { v: 1, payload: GOOD.payload, root_public_key: pkText }, 'bad_keyring'],
    ['v as a string', Object.assign({}, GOOD, { v: '1' }), 'bad_keyring'],
    ['v 2', Object.assign({}, GOOD, { v: 2 }), 'unsupported_version'],
    ['an array', [GOOD], 'bad_keyring'],
    ['null', null, 'bad_keyring'],
    ['root key of 31 bytes', Object.assign({}, GOOD, { root_public_key: b64(ROOT.publicKey.subarray(0, 31)) }), 'bad_keyring'],
    ['signature of 63 bytes', Object.assign({}, GOOD, { signature: b64(Buffer.from(GOOD.signature, 'base64').subarray(0, 63)) }), 'bad_keyring'],
    ['root key in base64url', Object.assign({}, GOOD, { root_public_key: pkText.replace(/\+/g, '-').replace(/\//g, '_') }), pkText.match(/[+/]/) ? 'bad_keyring' : 'no error'],
    ['root key without padding', Object.assign({}, GOOD, { root_public_key: pkText.replace(/=+$/, '') }), 'bad_keyring'],
    ['payload with a line break', Object.assign({}, GOOD, { payload: GOOD.payload.slice(0, 76) + '\n' + GOOD.payload.slice(76) }), 'bad_keyring'],
    ['signature with stray bits', Object.assign({}, GOOD, { signature: strayBits(GOOD.signature) }), 'bad_keyring'],
  ];
  for (const [name, file, expected] of cases) {
    assert.equal(code(() => seal.verifyKeyring(file === null ? 'null' : JSON.stringify(file), ROOT.publicKey, TODAY)), expected, name);
  }
  assert.equal(verifyCode('\ufeff' + text(GOOD)), 'bad_keyring', 'a byte order mark');
  assert.equal(code(() => seal.verifyKeyring(new Uint8Array([0x7b, 0xff, 0x7d]), ROOT.publicKey, TODAY)), 'bad_keyring', 'invalid UTF-8');
  assert.equal(code(() => seal.verifyKeyring(text(GOOD), ROOT.publicKey.subarray(0, 31), TODAY)), 'TypeError', 'a pin of 31 bytes');
});

test('the payload is closed and checked once signed (§2.5)', () => {
  const k = (nb, na) => intakeKey(nb, na).entry;
  const cases = [
    ['v 2', payloadFor(ROOT, [K1.entry], { v: 2 }), 'unsupported_version'],
    ['serial 0', payloadFor(ROOT, [K1.entry], { serial: 0 }), 'bad_keyring'],
    ['serial 1.5', payloadFor(ROOT, [K1.entry], { serial: 1.5 }), 'bad_keyring'],
    ['serial as a string', payloadFor(ROOT, [K1.entry], { serial: '7' }), 'bad_keyring'],
    ['missing scripts', (() => { const p = payloadFor(ROOT, [K1.entry]); delete p.scripts; return p; })(), 'bad_keyring'],
    ['script value not a string', payloadFor(ROOT, [K1.entry], { scripts: { 'app.js': 1 } }), 'bad_keyring'],
    ['issued after expires', payloadFor(ROOT, [K1.entry], { issued: '2026-06-01' }), 'bad_keyring'],
    ['no such day', payloadFor(ROOT, [K1.entry], { expires: '2026-02-29' }), 'bad_keyring'],
    ['a time of day', payloadFor(ROOT, [K1.entry], { expires: '2026-05-30T00:00:00Z' }), 'bad_keyring'],
    ['no keys', payloadFor(ROOT, []), 'bad_keyring'],
    ['17 keys', payloadFor(ROOT, Array.from({ length: 17 }, () => k('2026-03-01'))), 'bad_keyring'],
    ['a key listed twice', payloadFor(ROOT, [K1.entry, K1.entry]), 'bad_keyring'],
    ['not_after before not_before', payloadFor(ROOT, [k('2026-03-05', '2026-03-04')]), 'bad_keyring'],
    ['not_after null', payloadFor(ROOT, [Object.assign({}, K1.entry, { not_after: null })]), 'bad_keyring'],
    ['public key of 31 bytes', payloadFor(ROOT, [Object.assign({}, K1.entry, { public_key: b64(K1.publicKey.subarray(0, 31)) })]), 'bad_keyring'],
    ['key missing not_before', payloadFor(ROOT, [{ key_id: K1.entry.key_id, public_key: K1.entry.public_key }]), 'bad_keyring'],
    ['not JSON', '{"v":1,', 'bad_keyring'],
  ];
  for (const [name, p, expected] of cases) {
    assert.equal(verifyCode(keyringFile(ROOT, p)), expected, name);
  }
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, Array.from({ length: 16 }, () => k('2026-03-01'))))), 'no error', '16 keys');
  assert.equal(verifyCode(keyringFile(ROOT, payloadFor(ROOT, [K1.entry], { scripts: {} }))), 'no error', 'no scripts');
  // P is used as written: member order and spacing are free.
  const reversed = (o) => (Array.isArray(o) ? o.map(reversed) : o !== null && typeof o === 'object'
    ? Object.fromEntries(Object.entries(o).reverse().map(([n, v]) => [n, reversed(v)])) : o);
  const spaced = JSON.stringify(reversed(payloadFor(ROOT, [K1.entry])), null, 2);
  assert.ok(spaced.indexOf('"scripts"') < spaced.indexOf('"v"'));
  assert.equal(verifyCode(keyringFile(ROOT, spaced)), 'no error', 'another member order, indented');
});

// --- key status and the current key (§2.5) ----------------------------------------------

function payloadOf(entries, over) {
  return seal.verifyKeyring(text(keyringFile(ROOT, payloadFor(ROOT, entries, over))), ROOT.publicKey, TODAY);
}

test('overlap: two keys in their window, the newest is current and the other retiring', () => {
  const old = intakeKey('2026-01-01', '2026-03-20');
  const fresh = intakeKey('2026-03-08');
  const p = payloadOf([old.entry, fresh.entry]);
  assert.equal(seal.currentKey(p, TODAY).key_id, fresh.entry.key_id);
  assert.equal(seal.keyStatus(p, fresh.entry.key_id, TODAY), 'active');
  assert.equal(seal.keyStatus(p, old.entry.key_id, TODAY), 'retiring');
  // The list order does not matter, only not_before.
  const q = payloadOf([fresh.entry, old.entry]);
  assert.equal(seal.currentKey(q, TODAY).key_id, fresh.entry.key_id);
  // Before the new key starts, the old one is current and the new one pending.
  assert.equal(seal.currentKey(p, '2026-03-07').key_id, old.entry.key_id);
  assert.equal(seal.keyStatus(p, fresh.entry.key_id, '2026-03-07'), 'pending');
  assert.equal(seal.keyStatus(p, old.entry.key_id, '2026-03-07'), 'active');
  // After the overlap the old one is retired.
  assert.equal(seal.keyStatus(p, old.entry.key_id, '2026-03-21'), 'retired');
  assert.equal(seal.keyStatus(p, old.entry.key_id, '2026-03-20'), 'retiring', 'not_after is the last day');
});

test('same not_before (tipdesk keys rotate on the day): the later in the list is current', () => {
  const old = intakeKey(TODAY, '2026-03-24');
  const fresh = intakeKey(TODAY);
  assert.equal(seal.currentKey(payloadOf([old.entry, fresh.entry]), TODAY).key_id, fresh.entry.key_id);
  assert.equal(seal.currentKey(payloadOf([fresh.entry, old.entry]), TODAY).key_id, old.entry.key_id);
});

test('a key whose not_after has passed is excluded', () => {
  const retired = intakeKey('2026-02-01', '2026-03-09'); // newest not_before, but ended yesterday
  const older = intakeKey('2026-01-01');
  const p = payloadOf([older.entry, retired.entry]);
  assert.equal(seal.currentKey(p, TODAY).key_id, older.entry.key_id);
  assert.equal(seal.keyStatus(p, retired.entry.key_id, TODAY), 'retired');
  assert.equal(seal.keyStatus(p, older.entry.key_id, TODAY), 'active');
  // Ending today still counts.
  const endsToday = intakeKey('2026-02-01', TODAY);
  assert.equal(seal.currentKey(payloadOf([older.entry, endsToday.entry]), TODAY).key_id, endsToday.entry.key_id);
});

test('a key with a future not_before is pending and excluded', () => {
  const pending = intakeKey('2026-03-11');
  const now = intakeKey('2026-03-10');
  const p = payloadOf([now.entry, pending.entry]);
  assert.equal(seal.currentKey(p, TODAY).key_id, now.entry.key_id);
  assert.equal(seal.keyStatus(p, pending.entry.key_id, TODAY), 'pending');
  assert.equal(seal.currentKey(p, '2026-03-11').key_id, pending.entry.key_id);
  assert.equal(seal.keyStatus(p, now.entry.key_id, '2026-03-11'), 'retiring', 'no not_after: still accepted');
});

test('no key in its window: nothing to seal to (no_current_key)', () => {
  const past = intakeKey('2026-01-01', '2026-02-01');
  const future = intakeKey('2026-04-01');
  const p = payloadOf([past.entry, future.entry]);
  assert.equal(code(() => seal.currentKey(p, TODAY)), 'no_current_key');
  assert.equal(seal.keyStatus(p, past.entry.key_id, TODAY), 'retired');
  assert.equal(seal.keyStatus(p, future.entry.key_id, TODAY), 'pending');
  assert.equal(seal.keyStatus(p, keyId(nacl.box.keyPair().publicKey), TODAY), 'retired', 'not listed');
});

test('sealing to the current key: the box opens with that key and names its id', () => {
  const old = intakeKey('2026-01-01', '2026-03-20');
  const fresh = intakeKey('2026-03-08');
  const p = payloadOf([old.entry, fresh.entry]);
  const keyDoc = seal.keyDocumentOf(seal.currentKey(p, TODAY));
  assert.equal(seal.verifyKeyDocument(keyDoc).keyId, fresh.entry.key_id);
  const submission = seal.sealTip({ body: 'Паспорта забрали.', lang: 'ru' }, keyDoc);
  assert.equal(submission.key_id, fresh.entry.key_id);
  const sealed = new Uint8Array(Buffer.from(submission.sealed, 'base64'));
  const epk = sealed.subarray(0, 32);
  const nonce = blake2b(Buffer.concat([epk, fresh.publicKey]), 24);
  const padded = nacl.box.open(sealed.subarray(32), nonce, epk, fresh.secretKey);
  assert.ok(padded, 'opens with the current key');
  assert.equal(nacl.box.open(sealed.subarray(32), blake2b(Buffer.concat([epk, old.publicKey]), 24), epk, old.secretKey), null,
    'and not with the retiring one');
  const end = padded.lastIndexOf(0x80);
  assert.deepEqual(JSON.parse(Buffer.from(padded.subarray(0, end)).toString('utf8')), { v: 1, body: 'Паспорта забрали.', lang: 'ru' });
});

test('todayUTC gives the UTC calendar day', () => {
  assert.equal(seal.todayUTC(new Date(Date.UTC(2026, 0, 1, 23, 59, 59))), '2026-01-01');
  assert.equal(seal.todayUTC(new Date(Date.UTC(2026, 11, 31, 0, 0, 0))), '2026-12-31');
  assert.equal(seal.todayUTC(new Date('2026-03-10T02:00:00+05:00')), '2026-03-09');
  assert.match(seal.todayUTC(), /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);
});
