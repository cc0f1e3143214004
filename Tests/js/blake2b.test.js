// Tests for Sources/TipServer/Resources/static/blake2b.js (RFC 7693), run with `node --test Tests/js/`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const blake2b = require(path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static', 'blake2b.js'));
const vectors = require('./blake2b-vectors.json').vectors;

const fromHex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (u) => Buffer.from(u).toString('hex');

test('RFC 7693 Appendix A: BLAKE2b-512("abc")', () => {
  const expected =
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' +
    '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923';
  assert.equal(toHex(blake2b(new TextEncoder().encode('abc'), 64)), expected);
});

test('the vector file covers what the sealed box and key id need', () => {
  const lengths24 = new Set(vectors.filter((v) => v.outlen === 24).map((v) => v.input.length / 2));
  for (const n of [0, 1, 3, 64, 127, 128, 129, 255, 256, 1000]) assert.ok(lengths24.has(n), `outlen 24, ${n} bytes`);
  assert.ok(vectors.some((v) => v.outlen === 32));
  assert.ok(vectors.some((v) => v.outlen === 8));
});

for (const v of vectors) {
  test(`libsodium vector: ${v.name}`, () => {
    const input = fromHex(v.input);
    const out = blake2b(input, v.outlen);
    assert.ok(out instanceof Uint8Array);
    assert.equal(out.length, v.outlen);
    assert.equal(toHex(out), v.output);
    assert.equal(toHex(input), v.input, 'the input is not modified');
  });
}

test('the output length is in the parameter block: BLAKE2b-192 is not truncated BLAKE2b-512', () => {
  for (const v of vectors.filter((x) => x.outlen === 24)) {
    const input = fromHex(v.input);
    const truncated = blake2b(input, 64).subarray(0, 24);
    assert.notEqual(toHex(truncated), toHex(blake2b(input, 24)));
  }
  const input = fromHex('00'.repeat(64));
  assert.notEqual(toHex(blake2b(input, 64).subarray(0, 32)), toHex(blake2b(input, 32)));
});

test('the public test key hashes to the key id of SECURITY.md §2.1', () => {
  const pk = new Uint8Array(Buffer.from('PadVJ4+IOzE/Vb5A/PP510aVbX0d1qnpWDcFSiT5fnM=', 'base64'));
  assert.equal(toHex(blake2b(pk, 32)), 'ba5d987fcd4768d2a48e2635231f3bde5825939293f1c7703c28c0c664d58e9b');
});

test('Buffer and subarray inputs hash their own bytes', () => {
  const whole = fromHex('ff'.repeat(10) + '616263' + 'ff'.repeat(10));
  const abc512 = toHex(blake2b(new TextEncoder().encode('abc'), 64));
  assert.equal(toHex(blake2b(whole.subarray(10, 13), 64)), abc512);
  assert.equal(toHex(blake2b(Buffer.from('abc'), 64)), abc512);
});

test('bad arguments are refused', () => {
  const input = new Uint8Array(3);
  for (const outlen of [0, 65, 1.5, -1, NaN, '24', undefined]) {
    assert.throws(() => blake2b(input, outlen), RangeError, String(outlen));
  }
  for (const bad of ['abc', [1, 2, 3], null, undefined, new ArrayBuffer(3)]) {
    assert.throws(() => blake2b(bad, 24), TypeError);
  }
});
