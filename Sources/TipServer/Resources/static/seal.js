/*
 * Sealing a tip in the witness's browser (SECURITY.md §2.1, §2.2, §3.2–§3.4).
 *
 * The result is byte-for-byte what libsodium's crypto_box_seal makes, so tipdesk opens it
 * like any other tip. X25519 and XSalsa20-Poly1305 come only from tweetnacl (the global
 * `nacl`, nacl-fast.min.js); BLAKE2b from blake2b.js (the global `tipgateBlake2b`). Load
 * order in the page: nacl-fast.min.js, blake2b.js, seal.js, app.js.
 *
 * Nothing here logs, and no error message quotes the tip. Padded plaintext, the ephemeral
 * secret key and the shared key are zeroed after use. JavaScript strings (the body itself)
 * and tweetnacl's internal buffers cannot be zeroed: this is best effort.
 *
 *   tipgateSeal.keyIdOf(pk)              -> "ba5d987fcd4768d2"
 *   tipgateSeal.fingerprintOf(pk)        -> "ba5d 987f … 8e9b"
 *   tipgateSeal.verifyKeyDocument(doc)   -> {keyId, publicKey, fingerprint}, or throws
 *   tipgateSeal.buildDocument(tip)       -> Uint8Array (UTF-8 JSON), or throws
 *   tipgateSeal.pad(docBytes)            -> Uint8Array of 1024, 2048, … 1048576 bytes
 *   tipgateSeal.sealedBox(padded, pk)    -> Uint8Array, crypto_box_seal(padded, pk)
 *   tipgateSeal.sealTip(tip, keyDoc)     -> {v: 1, key_id, sealed}
 *
 * Errors carry a stable `.code`: the §3.2 codes from buildDocument and pad, the §2.2 codes
 * from verifyKeyDocument.
 */
(function (root) {
  'use strict';

  var isNode = typeof module !== 'undefined' && !!module.exports;

  var MAX_BODY_BYTES = 262144;
  var MAX_FIELDS = 32;
  var MAX_FIELD_NAME_BYTES = 64;
  var MAX_FIELD_VALUE_BYTES = 4096;
  var MAX_LANG_BYTES = 35;
  var MIN_PADDED_BYTES = 1024;
  var MAX_PADDED_BYTES = 1048576; // the server's default maxPaddedBytes (§3.2, §3.5)
  var PUBLIC_KEY_BYTES = 32;
  var NONCE_BYTES = 24;

  // Dependencies: browser globals, or in node the sibling blake2b.js and Debian's tweetnacl.
  function blake2b(input, outlen) {
    var f = typeof root.tipgateBlake2b === 'function' ? root.tipgateBlake2b
      : (isNode ? require('./blake2b.js') : undefined);
    if (typeof f !== 'function') throw new Error('tipgateSeal: blake2b.js is not loaded');
    return f(input, outlen);
  }

  function naclLib() {
    if (root.nacl && root.nacl.box) return root.nacl;
    if (isNode) {
      try {
        return require('/usr/share/nodejs/tweetnacl/nacl-fast.js'); // Debian node-tweetnacl
      } catch (e) {
        return require('tweetnacl');
      }
    }
    throw new Error('tipgateSeal: tweetnacl (nacl-fast.min.js) is not loaded');
  }

  function failure(code, message) {
    var e = new Error(message);
    e.code = code;
    return e;
  }

  // --- bytes, hex, base64, UTF-8 ---------------------------------------------------------

  function hex(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    return s;
  }

  function concat(a, b) {
    var out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }

  function useBuffer() {
    return typeof Buffer === 'function' && typeof Buffer.from === 'function';
  }

  // Standard base64 with padding (RFC 4648 §4, SECURITY.md §1).
  function base64Encode(bytes) {
    if (useBuffer()) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
    var chunks = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(chunks.join(''));
  }

  var BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

  // Decodes canonical standard base64 only (SECURITY.md §1): the +/ alphabet, = padding, no
  // whitespace, zero unused bits. Returns null for anything else.
  function base64Decode(text) {
    if (typeof text !== 'string' || !BASE64_SHAPE.test(text)) return null;
    var bytes;
    if (useBuffer()) {
      bytes = new Uint8Array(Buffer.from(text, 'base64'));
    } else {
      var bin = atob(text);
      bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    }
    return base64Encode(bytes) === text ? bytes : null;
  }

  // Replaces unpaired surrogates with U+FFFD, as TextEncoder would, so the JSON we write is
  // valid UTF-8 and the byte counts we check are the bytes we send (JSON.stringify would
  // otherwise write a lone surrogate as a \udXXX escape that readers refuse).
  function wellFormed(s) {
    if (typeof s.toWellFormed === 'function') return s.toWellFormed();
    var out = '';
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { out += s[i] + s[i + 1]; i++; continue; }
      }
      out += (c >= 0xd800 && c <= 0xdfff) ? '\ufffd' : s[i];
    }
    return out;
  }

  function utf8(s) {
    return new TextEncoder().encode(s);
  }

  function utf8Length(s) {
    return utf8(s).length;
  }

  // --- §2.1 key id and fingerprint ------------------------------------------------------

  function checkPublicKey(pk) {
    if (!(pk instanceof Uint8Array) || pk.length !== PUBLIC_KEY_BYTES) {
      throw failure('invalid_public_key', 'the public key must be 32 bytes');
    }
  }

  // key_id: lowercase hex of the first 8 bytes of BLAKE2b-256(pk).
  function keyIdOf(pk) {
    checkPublicKey(pk);
    return hex(blake2b(pk, 32).subarray(0, 8));
  }

  // fingerprint: all of BLAKE2b-256(pk) in lowercase hex, 16 groups of 4 digits.
  function fingerprintOf(pk) {
    checkPublicKey(pk);
    return hex(blake2b(pk, 32)).match(/.{4}/g).join(' ');
  }

  // --- §2.2 public key document ---------------------------------------------------------

  // Verifies a public key document (a parsed object, or its JSON text) in the order of §2.2
  // and returns {keyId, publicKey: Uint8Array, fingerprint}. Throws with the §2.2 code.
  function verifyKeyDocument(doc) {
    if (typeof doc === 'string') {
      try {
        doc = JSON.parse(doc);
      } catch (e) {
        throw failure('invalid_json', 'the public key document is not JSON');
      }
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw failure('invalid_json', 'the public key document is not a JSON object');
    }
    var names = Object.keys(doc).sort();
    if (names.join(',') !== 'fingerprint,key_id,public_key,v') {
      throw failure('invalid_json', 'the public key document must have exactly v, key_id, public_key and fingerprint');
    }
    if (typeof doc.v !== 'number' || typeof doc.key_id !== 'string' ||
        typeof doc.public_key !== 'string' || typeof doc.fingerprint !== 'string') {
      throw failure('invalid_json', 'a member of the public key document has the wrong type');
    }
    if (doc.v !== 1) throw failure('unsupported_version', 'the public key document is not version 1');
    if (!/^[0-9a-f]{16}$/.test(doc.key_id)) throw failure('invalid_key_id', 'key_id must be 16 lowercase hex digits');
    var pk = base64Decode(doc.public_key);
    if (pk === null || pk.length !== PUBLIC_KEY_BYTES) {
      throw failure('invalid_public_key', 'public_key must be 32 bytes in standard base64');
    }
    if (keyIdOf(pk) !== doc.key_id) throw failure('key_id_mismatch', 'key_id is not derived from public_key');
    if (fingerprintOf(pk) !== doc.fingerprint) {
      throw failure('fingerprint_mismatch', 'fingerprint is not derived from public_key');
    }
    return { keyId: doc.key_id, publicKey: pk, fingerprint: doc.fingerprint };
  }

  // --- §3.2 tip document ----------------------------------------------------------------

  // Builds the tip document {"v":1,"body":…,"fields":{…},"lang":…} as UTF-8 JSON bytes.
  // `fields` is omitted when empty and `lang` when null/undefined (an empty lang is bad_lang).
  // Checks run in the order of §3.2; the first failure is thrown with its code.
  function buildDocument(tip) {
    tip = tip || {};
    var body = tip.body == null ? '' : tip.body;
    if (typeof body !== 'string') throw new TypeError('buildDocument: body must be a string');
    body = wellFormed(body);

    var fields = Object.create(null); // no prototype: a field may be called "__proto__"
    var names = [];
    if (tip.fields != null) {
      if (typeof tip.fields !== 'object' || Array.isArray(tip.fields)) {
        throw new TypeError('buildDocument: fields must be an object of strings');
      }
      var given = Object.keys(tip.fields);
      for (var i = 0; i < given.length; i++) {
        var value = tip.fields[given[i]];
        if (typeof value !== 'string') throw failure('bad_field', 'field values must be text');
        fields[wellFormed(given[i])] = wellFormed(value);
      }
      names = Object.keys(fields);
    }
    var lang = tip.lang;
    if (lang != null && typeof lang !== 'string') throw failure('bad_lang', 'lang must be a language tag like "ru" or "uz-Latn"');

    var bodyBytes = utf8Length(body);
    if (bodyBytes < 1) throw failure('empty_body', 'the tip body is empty');
    if (bodyBytes > MAX_BODY_BYTES) throw failure('body_too_long', 'the tip body is over 262144 bytes');
    if (names.length > MAX_FIELDS) throw failure('too_many_fields', 'a tip has at most 32 fields');
    for (var j = 0; j < names.length; j++) {
      var n = utf8Length(names[j]);
      if (n < 1 || n > MAX_FIELD_NAME_BYTES) throw failure('bad_field', 'field names are 1 to 64 bytes');
      if (utf8Length(fields[names[j]]) > MAX_FIELD_VALUE_BYTES) {
        throw failure('bad_field', 'field values are at most 4096 bytes');
      }
    }
    if (lang != null && !/^[A-Za-z0-9-]{1,35}$/.test(lang)) {
      throw failure('bad_lang', 'lang must be a language tag like "ru" or "uz-Latn"');
    }

    // Member order is free (§1: readers must not depend on it); this is the order of §3.2.
    var doc = { v: 1, body: body };
    if (names.length > 0) doc.fields = fields;
    if (lang != null) doc.lang = lang;
    var bytes = utf8(JSON.stringify(doc));
    if (bytes.length + 1 > MAX_PADDED_BYTES) {
      bytes.fill(0);
      throw failure('tip_too_large', 'the tip is too large once encoded');
    }
    return bytes;
  }

  // --- §3.3 padding ---------------------------------------------------------------------

  // ISO/IEC 7816-4 padding (as sodium_pad): document ‖ 0x80 ‖ zeros, to the smallest power
  // of two P ≥ 1024 with P ≥ len + 1. Throws tip_too_large above maxPadded (default 1 MiB).
  function pad(docBytes, maxPadded) {
    if (!(docBytes instanceof Uint8Array)) throw new TypeError('pad: docBytes must be a Uint8Array');
    var max = maxPadded === undefined ? MAX_PADDED_BYTES : maxPadded;
    var size = MIN_PADDED_BYTES;
    while (size < docBytes.length + 1) size *= 2;
    if (size > max) throw failure('tip_too_large', 'the tip is too large once encoded');
    var padded = new Uint8Array(size); // zero-filled
    padded.set(docBytes, 0);
    padded[docBytes.length] = 0x80;
    return padded;
  }

  // --- §3.4 envelope --------------------------------------------------------------------

  function allZero(bytes) {
    var acc = 0;
    for (var i = 0; i < bytes.length; i++) acc |= bytes[i];
    return acc === 0;
  }

  // crypto_box_seal(padded, pk): epk ‖ box(padded, nonce = BLAKE2b-192(epk ‖ pk), pk, esk).
  function sealedBox(padded, pk) {
    if (!(padded instanceof Uint8Array)) throw new TypeError('sealedBox: padded must be a Uint8Array');
    checkPublicKey(pk);
    var nacl = naclLib();
    var eph = nacl.box.keyPair(); // fresh per tip; tweetnacl draws from crypto.getRandomValues
    var shared = null;
    var dh = null;
    try {
      // libsodium refuses a recipient key of small order (all-zero X25519 output); do the same
      // so a bad key document can never make a box anyone can open.
      dh = nacl.scalarMult(eph.secretKey, pk);
      if (allZero(dh)) throw failure('invalid_public_key', 'the public key is not usable');
      var nonce = blake2b(concat(eph.publicKey, pk), NONCE_BYTES);
      shared = nacl.box.before(pk, eph.secretKey); // nacl.box = before + after
      var box = nacl.box.after(padded, nonce, shared); // tag (16) ‖ ciphertext, as crypto_box_easy
      return concat(eph.publicKey, box);
    } finally {
      eph.secretKey.fill(0);
      if (dh) dh.fill(0);
      if (shared) shared.fill(0);
    }
  }

  // Seals a tip to a public key document and returns the submission {v:1, key_id, sealed}
  // for POST /api/v1/tips.
  function sealTip(tip, keyDocument) {
    var key = verifyKeyDocument(keyDocument);
    var doc = buildDocument(tip);
    var padded = null;
    try {
      padded = pad(doc);
      var sealed = sealedBox(padded, key.publicKey);
      return { v: 1, key_id: key.keyId, sealed: base64Encode(sealed) };
    } finally {
      doc.fill(0);
      if (padded) padded.fill(0);
    }
  }

  var tipgateSeal = {
    keyIdOf: keyIdOf,
    fingerprintOf: fingerprintOf,
    verifyKeyDocument: verifyKeyDocument,
    buildDocument: buildDocument,
    pad: pad,
    sealedBox: sealedBox,
    sealTip: sealTip,
    MAX_PADDED_BYTES: MAX_PADDED_BYTES
  };

  if (isNode) {
    module.exports = tipgateSeal; // node (tests, Tests/js/seal-cli.js)
  } else {
    root.tipgateSeal = tipgateSeal; // browser global
  }
})(this);
