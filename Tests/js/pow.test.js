// Tests for the proof of work of Sources/TipServer/Resources/static/seal.js and pow-worker.js
// (SECURITY.md §4.6), run with `node --test Tests/js/`. tweetnacl is Debian's node-tweetnacl;
// the independent SHA-512 is node's crypto (OpenSSL), and pow-vectors.json comes from Python's
// hashlib with the Swift solver's search (Tests/js/make-pow-vectors.py).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const fs = require('fs');
const vm = require('vm');
const crypto = require('crypto');

const STATIC = path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static');
const NACL_MIN = '/usr/share/nodejs/tweetnacl/nacl-fast.min.js';
const seal = require(path.join(STATIC, 'seal.js'));
const VECTORS = JSON.parse(fs.readFileSync(path.join(__dirname, 'pow-vectors.json'), 'utf8'));

const CONTEXT = Buffer.from('tipgate-pow-v1');
const fromHex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const sha512 = (b) => crypto.createHash('sha512').update(b).digest();

// The server's arithmetic, written again without seal.js: bits of the hash as text.
function independentZeroBits(hash) {
  const bits = Array.from(hash, (b) => b.toString(2).padStart(8, '0')).join('');
  const one = bits.indexOf('1');
  return one < 0 ? bits.length : one;
}

function independentHash(challenge, sealed, nonce) {
  return sha512(Buffer.concat([CONTEXT, Buffer.from(challenge), sha512(sealed), Buffer.from(nonce)]));
}

function independentlySolves(challenge, sealed, nonce) {
  return independentZeroBits(independentHash(challenge, sealed, nonce)) >= challenge[24];
}

// A challenge shaped like the server's: random(16) ‖ expires(8) ‖ difficulty(1) ‖ MAC(24).
function makeChallenge(difficulty) {
  const c = new Uint8Array(crypto.randomBytes(49));
  c[24] = difficulty;
  return c;
}

function flip(bytes, i) {
  const out = Uint8Array.from(bytes);
  out[i] ^= 1;
  return out;
}

function code(fn) {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  return 'no error';
}

test('leadingZeroBits: fixed cases', () => {
  const cases = [
    [[], 0],
    [[0x80], 0],
    [[0xff, 0], 0],
    [[0x40], 1],
    [[0x01], 7],
    [[0x00], 8],
    [[0x00, 0x80], 8],
    [[0x00, 0x01], 15],
    [[0x00, 0x00, 0xff], 16],
    [[0x00, 0x00, 0x00, 0x10, 0xff], 27],
    [new Array(64).fill(0), 512],
    [[...new Array(63).fill(0), 1], 511],
  ];
  for (const [bytes, n] of cases) {
    assert.equal(seal.leadingZeroBits(Uint8Array.from(bytes)), n, JSON.stringify(bytes));
  }
});

test('leadingZeroBits: every byte value, in every position of a SHA-512-sized hash', () => {
  for (let pos = 0; pos < 64; pos += 7) {
    for (let b = 0; b < 256; b++) {
      const h = new Uint8Array(64).fill(0xa5);
      h.fill(0, 0, pos);
      h[pos] = b;
      assert.equal(seal.leadingZeroBits(h), independentZeroBits(h), `byte ${b} at ${pos}`);
    }
  }
});

test('powSolve finds a nonce that an independent SHA-512 accepts, and it is the first one', () => {
  for (const d of [0, 1, 5, 9, 12]) {
    const challenge = makeChallenge(d);
    const sealed = new Uint8Array(crypto.randomBytes(1072));
    const nonce = seal.powSolve(challenge, sealed);
    assert.ok(nonce instanceof Uint8Array);
    assert.equal(nonce.length, 8, 'an 8-byte nonce');
    assert.ok(independentlySolves(challenge, sealed, nonce), `difficulty ${d}`);
    assert.ok(seal.powVerify(challenge, sealed, nonce));
    // A big-endian counter from 0, as tipdesk's solver: every nonce before it fails.
    const n = Number(Buffer.from(nonce).readBigUInt64BE());
    for (let k = 0; k < n; k++) {
      const earlier = Buffer.alloc(8);
      earlier.writeBigUInt64BE(BigInt(k));
      assert.ok(!independentlySolves(challenge, sealed, earlier), `counter ${k} < ${n} also solves`);
    }
  }
});

test('powSolve is bound to the payload: another sealed box or challenge does not verify', () => {
  const challenge = makeChallenge(12);
  const sealed = new Uint8Array(crypto.randomBytes(2096));
  const nonce = seal.powSolve(challenge, sealed);
  let others = 0;
  for (let i = 0; i < 64; i++) {
    if (seal.powVerify(challenge, new Uint8Array(crypto.randomBytes(2096)), nonce)) others++;
  }
  assert.ok(others <= 2, `${others} of 64 other payloads verify at 12 bits`); // expected 64/4096
});

test('powSolve gives up after maxIterations, and powSolver in slices finds the same nonce', () => {
  const v = VECTORS.vectors.find((x) => x.difficulty === 16);
  const challenge = fromHex(v.challenge);
  const sealed = fromHex(v.sealed);
  const n = Number(Buffer.from(fromHex(v.nonce)).readBigUInt64BE());
  assert.equal(seal.powSolve(challenge, sealed, n), null, 'counters 0 … n-1 only');
  assert.equal(Buffer.from(seal.powSolve(challenge, sealed, n + 1)).toString('hex'), v.nonce);
  const solver = seal.powSolver(challenge, sealed);
  assert.equal(solver.difficulty, 16);
  let found = null;
  let slices = 0;
  while (found === null) {
    found = solver.run(997);
    slices++;
  }
  assert.equal(Buffer.from(found).toString('hex'), v.nonce);
  assert.equal(solver.tried(), n + 1);
  assert.equal(slices, Math.ceil((n + 1) / 997));
});

test('vectors from the Swift solver\'s search (hashlib): JS finds the same nonce and accepts it', () => {
  assert.equal(VECTORS.context, seal.POW_CONTEXT);
  assert.ok(VECTORS.vectors.length >= 5);
  const nacl = require('/usr/share/nodejs/tweetnacl/nacl-fast.js');
  for (const v of VECTORS.vectors) {
    const challenge = fromHex(v.challenge);
    const sealed = fromHex(v.sealed);
    const nonce = fromHex(v.nonce);
    assert.equal(challenge.length, 49, v.name);
    assert.equal(challenge[24], v.difficulty, v.name);
    // tweetnacl's SHA-512 of the preimage is hashlib's.
    const preimage = Buffer.concat([CONTEXT, challenge, Buffer.from(nacl.hash(sealed)), nonce]);
    assert.equal(Buffer.from(nacl.hash(new Uint8Array(preimage))).toString('hex'), v.hash, v.name);
    assert.equal(seal.leadingZeroBits(fromHex(v.hash)), v.leading_zero_bits, v.name);
    assert.ok(seal.powVerify(challenge, sealed, nonce), `${v.name}: accepted`);
    if (nonce.length === 8) {
      const found = seal.powSolve(challenge, sealed);
      assert.equal(Buffer.from(found).toString('hex'), v.nonce, `${v.name}: the same first nonce`);
    }
  }
});

test('vectors with one byte changed are refused', () => {
  for (const v of VECTORS.vectors.filter((x) => x.difficulty >= 8)) {
    const challenge = fromHex(v.challenge);
    const sealed = fromHex(v.sealed);
    const nonce = fromHex(v.nonce);
    assert.ok(!seal.powVerify(challenge, sealed, flip(nonce, nonce.length - 1)), `${v.name}: nonce`);
    assert.ok(!seal.powVerify(challenge, flip(sealed, 0), nonce), `${v.name}: sealed`);
    assert.ok(!seal.powVerify(flip(challenge, 0), sealed, nonce), `${v.name}: challenge`);
    assert.ok(!seal.powVerify(flip(challenge, 48), sealed, nonce), `${v.name}: MAC byte`);
    // The difficulty byte raised past what the vector's hash has (it is hashed too).
    const harder = Uint8Array.from(challenge);
    harder[24] = v.leading_zero_bits + 1;
    assert.ok(!seal.powVerify(harder, sealed, nonce), `${v.name}: difficulty byte`);
    assert.ok(!independentlySolves(harder, sealed, nonce), `${v.name}: difficulty byte (independent)`);
  }
});

test('powVerify and withPow refuse nonces the server refuses (0 or over 32 bytes)', () => {
  const v = VECTORS.vectors[0];
  const challenge = fromHex(v.challenge);
  const sealed = fromHex(v.sealed);
  assert.equal(seal.powVerify(challenge, sealed, new Uint8Array(0)), false);
  assert.equal(seal.powVerify(challenge, sealed, new Uint8Array(33)), false);
  const sub = { v: 1, key_id: '0123456789abcdef', sealed: 'AAAA' };
  const b64 = Buffer.from(challenge).toString('base64');
  assert.throws(() => seal.withPow(sub, b64, new Uint8Array(0)), TypeError);
  assert.throws(() => seal.withPow(sub, b64, new Uint8Array(33)), TypeError);
  assert.equal(code(() => seal.withPow(sub, Buffer.from(challenge.subarray(1)).toString('base64'), new Uint8Array(8))),
    'bad_challenge');
  assert.equal(code(() => seal.powSolve(challenge.subarray(1), sealed)), 'bad_challenge');
});

test('withPow adds exactly the §4.6 member and leaves the submission as it was', () => {
  const sub = { v: 1, key_id: '0123456789abcdef', sealed: Buffer.alloc(1072, 7).toString('base64') };
  const before = JSON.stringify(sub);
  const challenge = Buffer.from(makeChallenge(12)).toString('base64');
  const nonce = Uint8Array.from([0, 0, 0, 0, 0, 0, 0x12, 0x34]);
  const out = seal.withPow(sub, challenge, nonce);
  assert.equal(JSON.stringify(sub), before);
  assert.deepEqual(Object.keys(out).sort(), ['key_id', 'pow', 'sealed', 'v']);
  assert.deepEqual(out.pow, { challenge: challenge, nonce: 'AAAAAAAAEjQ=' });
  assert.equal(out.sealed, sub.sealed);
  assert.equal(out.key_id, sub.key_id);
  assert.equal(out.v, 1);
});

test('parseChallenge reads GET /api/v1/challenge and refuses anything else', () => {
  const c = makeChallenge(14);
  const b64 = Buffer.from(c).toString('base64');
  const good = { challenge: b64, difficulty: 14, expires: 1900000000, v: 1 };
  const parsed = seal.parseChallenge(JSON.stringify(good));
  assert.deepEqual(Array.from(parsed.challenge), Array.from(c));
  assert.equal(parsed.challengeBase64, b64);
  assert.equal(parsed.difficulty, 14);
  assert.equal(parsed.expires, 1900000000);
  assert.equal(seal.parseChallenge(good).difficulty, 14);
  const bad = [
    'not json',
    '[]',
    JSON.stringify({ ...good, v: 2 }),
    JSON.stringify({ ...good, extra: 1 }),
    JSON.stringify({ challenge: b64, difficulty: 14, v: 1 }),
    JSON.stringify({ ...good, difficulty: 13 }), // not the byte the server checks
    JSON.stringify({ ...good, difficulty: '14' }),
    JSON.stringify({ ...good, expires: '1900000000' }),
    JSON.stringify({ ...good, challenge: Buffer.from(c.subarray(0, 48)).toString('base64') }),
    JSON.stringify({ ...good, challenge: b64.replace(/=*$/, '') + '\n' }),
    JSON.stringify({ ...good, challenge: Buffer.from(c).toString('base64url') }),
  ];
  for (const text of bad) assert.equal(code(() => seal.parseChallenge(text)), 'bad_challenge', text);
});

// pow-worker.js in a fresh realm, as a browser runs it: importScripts of the two same-origin
// scripts, self.onmessage in, self.postMessage out.
function startWorker() {
  const messages = [];
  const context = { TextEncoder, TextDecoder, crypto: crypto.webcrypto };
  context.self = context;
  context.postMessage = (m) => messages.push(m);
  context.importScripts = (...urls) => {
    for (const url of urls) {
      const file = { '/static/nacl-fast.min.js': NACL_MIN, '/static/seal.js': path.join(STATIC, 'seal.js') }[url];
      assert.ok(file, `the worker imports ${url}`);
      vm.runInContext(fs.readFileSync(file, 'utf8'), context, { filename: url });
    }
  };
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(STATIC, 'pow-worker.js'), 'utf8'), context, { filename: 'pow-worker.js' });
  // Structured clone: the worker gets its own realm's Uint8Arrays.
  const inRealm = (u8) => {
    const out = vm.runInContext(`new Uint8Array(${u8.length})`, context);
    out.set(u8);
    return out;
  };
  const send = (job) => {
    messages.length = 0;
    context.self.onmessage({ data: job });
    return messages.slice();
  };
  return { send, inRealm, context };
}

test('pow-worker.js: loads its scripts, solves, reports progress every 50000 hashes, says when it gives up', () => {
  const w = startWorker();
  assert.equal(typeof w.context.self.onmessage, 'function');
  assert.ok(w.context.nacl && w.context.tipgateSeal, 'tweetnacl and seal.js were imported');
  // A frozen clock: reports come from the hash count alone.
  vm.runInContext('Date.now = function () { return 0; };', w.context);

  const v = VECTORS.vectors.find((x) => x.difficulty === 16);
  const n = Number(Buffer.from(fromHex(v.nonce)).readBigUInt64BE());
  let out = w.send({ challenge: w.inRealm(fromHex(v.challenge)), sealed: w.inRealm(fromHex(v.sealed)) });
  assert.equal(out.length, 1);
  assert.equal(Buffer.from(out[0].nonce).toString('hex'), v.nonce);
  assert.equal(out[0].tried, n + 1);

  // A challenge no one can meet (255 bits) with a limit: progress, then nonce null.
  const impossible = makeChallenge(255);
  out = w.send({ challenge: w.inRealm(impossible), sealed: w.inRealm(new Uint8Array(1072)), limit: 120000 });
  assert.deepEqual(out.map((m) => JSON.stringify(m)),
    [{ progress: 50000 }, { progress: 100000 }, { progress: 120000 }, { nonce: null, tried: 120000 }]
      .map((m) => JSON.stringify(m)));

  // Input it cannot use: an error code, no nonce.
  out = w.send({ challenge: w.inRealm(new Uint8Array(48)), sealed: w.inRealm(new Uint8Array(1072)) });
  assert.deepEqual(out.map((m) => JSON.stringify(m)), [JSON.stringify({ error: 'bad_challenge' })]);
  out = w.send(null);
  assert.equal(out.length, 1);
  assert.equal(typeof out[0].error, 'string');
});

test('pow-worker.js: on a slow device it still reports at least once a second', () => {
  const w = startWorker();
  // Every look at the clock finds two seconds gone: a report after every slice of hashes.
  vm.runInContext('var t = 0; Date.now = function () { return t += 2000; };', w.context);
  const out = w.send({ challenge: w.inRealm(makeChallenge(255)), sealed: w.inRealm(new Uint8Array(1072)), limit: 5000 });
  assert.deepEqual(out.map((m) => JSON.stringify(m)),
    [1000, 2000, 3000, 4000, 5000].map((p) => JSON.stringify({ progress: p }))
      .concat([JSON.stringify({ nonce: null, tried: 5000 })]));
});

test('pow-worker.js and seal.js never reach the network and never log', () => {
  for (const name of ['pow-worker.js', 'seal.js']) {
    const src = fs.readFileSync(path.join(STATIC, name), 'utf8');
    assert.doesNotMatch(src, /\bconsole\.[a-z]+\(|\bfetch\(|XMLHttpRequest|WebSocket|sendBeacon/, name);
  }
});
