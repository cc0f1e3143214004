/*
 * BLAKE2b, unkeyed, as specified in RFC 7693 (https://www.rfc-editor.org/rfc/rfc7693).
 *
 * tipgate needs it in the witness's browser for two things (SECURITY.md §2.1, §3.4):
 * the key id and fingerprint (BLAKE2b-256 of the public key) and the sealed-box nonce
 * (BLAKE2b-192 of epk ‖ pk), exactly as libsodium's crypto_generichash computes them.
 * It is the only primitive tipgate writes itself; X25519 and XSalsa20-Poly1305 come from
 * tweetnacl. Speed does not matter here (inputs are 32 or 64 bytes), clarity does.
 *
 * JavaScript numbers cannot hold 64-bit words, so each word is kept as two 32-bit halves
 * in a Uint32Array: word i is (hi = a[2i + 1], lo = a[2i]). Storing into a Uint32Array
 * reduces a value modulo 2^32, which is what the additions below rely on.
 *
 *   tipgateBlake2b(input: Uint8Array, outlen: number 1..64): Uint8Array
 */
(function (root) {
  'use strict';

  // RFC 7693 §2.6: the initialization vector (the SHA-512 IV), as [lo, hi] pairs.
  var IV = new Uint32Array([
    0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85,
    0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
    0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c,
    0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19
  ]);

  // RFC 7693 §2.7: the message word permutations, one row per round (BLAKE2b uses rows
  // 0..9, then 0..1 again for its 12 rounds).
  var SIGMA = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0]
  ];

  // RFC 7693 §2.1: BLAKE2b parameters.
  var BLOCK_BYTES = 128; // bb
  var ROUNDS = 12;       // r
  // Rotation constants R1..R4 = 32, 24, 16, 63 are written out in mix() below.

  // Word arithmetic on (hi, lo) halves. `a` is a Uint32Array of words; i, j are word indexes.

  // a[i] = a[i] + b[j] (mod 2^64).
  function add(a, i, b, j) {
    var lo = a[2 * i] + b[2 * j];
    var carry = lo > 0xffffffff ? 1 : 0;
    a[2 * i] = lo;
    a[2 * i + 1] = a[2 * i + 1] + b[2 * j + 1] + carry;
  }

  // a[i] = (a[i] XOR a[j]) >>> n, a right rotation by n of a 64-bit word (0 < n < 64).
  function xorRotate(a, i, j, n) {
    var lo = a[2 * i] ^ a[2 * j];
    var hi = a[2 * i + 1] ^ a[2 * j + 1];
    if (n >= 32) { // rotating by 32 swaps the halves; rotate the rest below
      var t = lo; lo = hi; hi = t;
      n -= 32;
    }
    if (n > 0) {
      var newLo = (lo >>> n) | (hi << (32 - n));
      var newHi = (hi >>> n) | (lo << (32 - n));
      lo = newLo; hi = newHi;
    }
    a[2 * i] = lo;
    a[2 * i + 1] = hi;
  }

  // RFC 7693 §3.1: the mixing function G, on work vector v and message words x, y of m.
  function mix(v, a, b, c, d, m, x, y) {
    add(v, a, v, b); add(v, a, m, x); // v[a] = v[a] + v[b] + x
    xorRotate(v, d, a, 32);           // v[d] = (v[d] ^ v[a]) >>> R1
    add(v, c, v, d);                  // v[c] = v[c] + v[d]
    xorRotate(v, b, c, 24);           // v[b] = (v[b] ^ v[c]) >>> R2
    add(v, a, v, b); add(v, a, m, y); // v[a] = v[a] + v[b] + y
    xorRotate(v, d, a, 16);           // v[d] = (v[d] ^ v[a]) >>> R3
    add(v, c, v, d);                  // v[c] = v[c] + v[d]
    xorRotate(v, b, c, 63);           // v[b] = (v[b] ^ v[c]) >>> R4
  }

  // RFC 7693 §3.2: the compression function F. h is the 8-word state, block the 128-byte
  // chunk, t the byte count so far (below 2^53 here, so its high 64 bits are 0), last the
  // final block flag f.
  function compress(h, block, t, last) {
    var v = new Uint32Array(32);
    var m = new Uint32Array(32);
    var i;

    // Message words are little-endian (RFC 7693 §2.4, §3.2 "m[0..15]").
    for (i = 0; i < 32; i++) {
      m[i] = block[4 * i] | (block[4 * i + 1] << 8) | (block[4 * i + 2] << 16) | (block[4 * i + 3] << 24);
    }

    // v[0..7] = h[0..7], v[8..15] = IV[0..7].
    v.set(h, 0);
    v.set(IV, 16);

    // v[12] ^= t mod 2^64; v[13] ^= t >> 64 (always 0 for inputs below 2^53 bytes).
    v[24] ^= t % 0x100000000;
    v[25] ^= Math.floor(t / 0x100000000);

    // Last block: v[14] = ~v[14].
    if (last) {
      v[28] = ~v[28];
      v[29] = ~v[29];
    }

    // Twelve rounds of column then diagonal mixing.
    for (i = 0; i < ROUNDS; i++) {
      var s = SIGMA[i % 10];
      mix(v, 0, 4, 8, 12, m, s[0], s[1]);
      mix(v, 1, 5, 9, 13, m, s[2], s[3]);
      mix(v, 2, 6, 10, 14, m, s[4], s[5]);
      mix(v, 3, 7, 11, 15, m, s[6], s[7]);
      mix(v, 0, 5, 10, 15, m, s[8], s[9]);
      mix(v, 1, 6, 11, 12, m, s[10], s[11]);
      mix(v, 2, 7, 8, 13, m, s[12], s[13]);
      mix(v, 3, 4, 9, 14, m, s[14], s[15]);
    }

    // h[i] ^= v[i] ^ v[i + 8].
    for (i = 0; i < 16; i++) {
      h[i] ^= v[i] ^ v[i + 16];
    }
    v.fill(0);
    m.fill(0);
  }

  // RFC 7693 §3.3: BLAKE2b(d, ll, kk = 0, nn), unkeyed.
  function tipgateBlake2b(input, outlen) {
    if (!(input instanceof Uint8Array)) {
      throw new TypeError('tipgateBlake2b: input must be a Uint8Array');
    }
    if (typeof outlen !== 'number' || outlen % 1 !== 0 || outlen < 1 || outlen > 64) {
      throw new RangeError('tipgateBlake2b: outlen must be an integer from 1 to 64');
    }

    // h[0..7] = IV[0..7], then h[0] ^= 0x0101kknn (RFC 7693 §2.5, §3.3): the parameter
    // block carries digest length nn (so BLAKE2b-192 is not a truncated BLAKE2b-512),
    // key length kk = 0, fanout 1 and depth 1.
    var h = new Uint32Array(IV);
    h[0] ^= 0x01010000 ^ outlen;

    // Every full block but the last is compressed with f = false and t = bytes so far;
    // the last block (zero-padded, or all zeros for empty input) with f = true, t = ll.
    var ll = input.length;
    var block = new Uint8Array(BLOCK_BYTES);
    var offset = 0;
    while (ll - offset > BLOCK_BYTES) {
      block.set(input.subarray(offset, offset + BLOCK_BYTES));
      offset += BLOCK_BYTES;
      compress(h, block, offset, false);
    }
    block.fill(0);
    block.set(input.subarray(offset));
    compress(h, block, ll, true);
    block.fill(0);

    // The digest is the first nn bytes of h, little-endian.
    var out = new Uint8Array(outlen);
    for (var i = 0; i < outlen; i++) {
      out[i] = h[i >> 2] >>> (8 * (i & 3));
    }
    h.fill(0);
    return out;
  }

  if (typeof module !== 'undefined' && module.exports) {
    module.exports = tipgateBlake2b; // node (tests, Tests/js/seal-cli.js)
  } else {
    root.tipgateBlake2b = tipgateBlake2b; // browser global
  }
})(this);
