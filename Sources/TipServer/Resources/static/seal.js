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
 * The signed keyring (SECURITY.md §2.5), for a page that names its root key:
 *
 *   tipgateSeal.verifyKeyring(file, rootPk, today) -> payload (the parsed P), or throws
 *   tipgateSeal.currentKey(payload, today)         -> intake key entry to seal to, or throws
 *   tipgateSeal.keyStatus(payload, keyId, today)   -> "active" | "retiring" | "pending" | "retired"
 *   tipgateSeal.keyDocumentOf(entry)               -> public key document (§2.2) for sealTip
 *   tipgateSeal.todayUTC(date?)                    -> "YYYY-MM-DD", the UTC day of `date` (now)
 *   tipgateSeal.base64Decode(text)                 -> Uint8Array, or null unless canonical base64
 *
 * Proof of work on the sealed path (SECURITY.md §4.6). SHA-512 is tweetnacl's (nacl.hash);
 * none of this sees the tip, only the challenge and the sealed bytes:
 *
 *   tipgateSeal.parseChallenge(json)                  -> {challenge, challengeBase64, difficulty, expires}, or throws bad_challenge
 *   tipgateSeal.leadingZeroBits(hash)                 -> number of leading zero bits
 *   tipgateSeal.powSolve(challenge, sealed, maxIter)  -> 8-byte nonce (big-endian counter) or null
 *   tipgateSeal.powSolver(challenge, sealed)          -> {difficulty, tried(), run(count)}: powSolve in slices
 *   tipgateSeal.powVerify(challenge, sealed, nonce)   -> true if the nonce meets the challenge's difficulty
 *   tipgateSeal.withPow(submission, challengeB64, nonce) -> a copy of the submission with its "pow" member
 *
 * Errors carry a stable `.code`: the §3.2 codes from buildDocument and pad, the §2.2 codes
 * from verifyKeyDocument, and from the keyring functions the §2.5 codes bad_keyring,
 * unsupported_version, wrong_root, bad_signature, keyring_expired, plus no_current_key when
 * no listed key's window holds today.
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

  // --- §2.5 signed keyring -------------------------------------------------------------

  var KEYRING_CONTEXT = 'tipgate-keyring-v1'; // signed: context ‖ 0x00 ‖ P
  var SIGNATURE_BYTES = 64;
  var MAX_INTAKE_KEYS = 16;
  var KEY_ID_SHAPE = /^[0-9a-f]{16}$/;

  function hasOwn(o, name) {
    return Object.prototype.hasOwnProperty.call(o, name);
  }

  function isPlainObject(o) {
    return o !== null && typeof o === 'object' && !Array.isArray(o);
  }

  // Closed JSON objects (§1): every member known, every required member present.
  function closed(o, required, optional) {
    if (!isPlainObject(o)) return false;
    var names = Object.keys(o);
    for (var i = 0; i < names.length; i++) {
      if (required.indexOf(names[i]) < 0 && (optional || []).indexOf(names[i]) < 0) return false;
    }
    for (var j = 0; j < required.length; j++) {
      if (!hasOwn(o, required[j])) return false;
    }
    return true;
  }

  // A UTC calendar day YYYY-MM-DD that exists (§1). Such days compare as strings.
  function isDay(s) {
    if (typeof s !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return false;
    var year = +s.slice(0, 4);
    var month = +s.slice(5, 7);
    var day = +s.slice(8, 10);
    var leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    var days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
  }

  function checkDay(today) {
    if (!isDay(today)) throw new TypeError('today must be a day YYYY-MM-DD');
  }

  // The UTC day of `date` (default: now, from this machine's clock).
  function todayUTC(date) {
    var d = date === undefined ? new Date() : date;
    var y = d.getUTCFullYear();
    var m = d.getUTCMonth() + 1;
    var day = d.getUTCDate();
    return (y < 1000 ? ('000' + y).slice(-4) : String(y)) + '-' + (m < 10 ? '0' : '') + m + '-' + (day < 10 ? '0' : '') + day;
  }

  function bytesEqual(a, b) {
    if (a.length !== b.length) return false;
    var acc = 0;
    for (var i = 0; i < a.length; i++) acc |= a[i] ^ b[i];
    return acc === 0;
  }

  // Strict UTF-8 text (invalid UTF-8 is refused, a BOM is kept and so fails JSON.parse).
  function utf8Text(bytes) {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  }

  function parseJSON(text, code, what) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw failure(code, what + ' is not JSON (it may be truncated)');
    }
  }

  // Parses the keyring file's wrapper (closed, §1): exactly v, payload, root_public_key and
  // signature; v 1; canonical base64 of P, of a 32-byte key and of a 64-byte signature.
  // Trusts nothing inside P.
  function parseKeyringWrapper(file) {
    var w = file;
    if (file instanceof Uint8Array) {
      try {
        w = utf8Text(file);
      } catch (e) {
        throw failure('bad_keyring', 'the keyring file is not UTF-8');
      }
    }
    if (typeof w === 'string') w = parseJSON(w, 'bad_keyring', 'the keyring file');
    var bad = function () { return failure('bad_keyring', 'not a v1 signed keyring file (it may be truncated)'); };
    if (!closed(w, ['v', 'payload', 'root_public_key', 'signature'])) throw bad();
    if (typeof w.v !== 'number' || typeof w.payload !== 'string' ||
        typeof w.root_public_key !== 'string' || typeof w.signature !== 'string') throw bad();
    if (w.v !== 1) throw failure('unsupported_version', 'the keyring file is not version 1');
    var payload = base64Decode(w.payload);
    var rootPk = base64Decode(w.root_public_key);
    var signature = base64Decode(w.signature);
    if (payload === null || rootPk === null || rootPk.length !== PUBLIC_KEY_BYTES ||
        signature === null || signature.length !== SIGNATURE_BYTES) throw bad();
    return { payload: payload, rootPublicKey: rootPk, signature: signature };
  }

  // Parses P (closed, §2.5) after its signature has been verified.
  function parseKeyringPayload(bytes, rootPk) {
    var bad = function (why) { return failure('bad_keyring', why); };
    var text;
    try {
      text = utf8Text(bytes);
    } catch (e) {
      throw bad('the keyring payload is not UTF-8');
    }
    var p = parseJSON(text, 'bad_keyring', 'the keyring payload');
    if (!closed(p, ['v', 'serial', 'issued', 'expires', 'root_key_id', 'intake_keys', 'scripts'], ['forwarding_key'])) {
      throw bad('the keyring payload is not a v1 keyring');
    }
    if (typeof p.v !== 'number') throw bad('the keyring payload is not a v1 keyring');
    if (p.v !== 1) throw failure('unsupported_version', 'the keyring payload is not version 1');
    if (!Number.isSafeInteger(p.serial) || p.serial < 1) throw bad('serial must be a positive integer');
    if (!isDay(p.issued) || !isDay(p.expires) || p.issued > p.expires) {
      throw bad('issued and expires must be days with issued ≤ expires');
    }
    if (typeof p.root_key_id !== 'string' || !KEY_ID_SHAPE.test(p.root_key_id)) throw bad('root_key_id is not a key id');
    if (!Array.isArray(p.intake_keys) || p.intake_keys.length < 1 || p.intake_keys.length > MAX_INTAKE_KEYS) {
      throw bad('a keyring lists 1 to 16 intake keys');
    }
    if (!isPlainObject(p.scripts)) throw bad('scripts must map names to integrity values');
    var scriptNames = Object.keys(p.scripts);
    for (var s = 0; s < scriptNames.length; s++) {
      if (typeof p.scripts[scriptNames[s]] !== 'string') throw bad('scripts must map names to integrity values');
    }
    var seen = Object.create(null);
    var keys = [];
    for (var i = 0; i < p.intake_keys.length; i++) {
      var e = p.intake_keys[i];
      if (!closed(e, ['key_id', 'public_key', 'not_before'], ['not_after'])) throw bad('an intake key entry is not valid');
      var pk = base64Decode(e.public_key);
      if (typeof e.key_id !== 'string' || !KEY_ID_SHAPE.test(e.key_id) || pk === null ||
          pk.length !== PUBLIC_KEY_BYTES || !isDay(e.not_before)) throw bad('an intake key entry is not valid');
      if (hasOwn(e, 'not_after') && (!isDay(e.not_after) || e.not_after < e.not_before)) {
        throw bad('not_after must be a day on or after not_before');
      }
      if (seen[e.key_id]) throw bad('a key id is listed twice');
      seen[e.key_id] = true;
      var entry = { key_id: e.key_id, public_key: e.public_key, not_before: e.not_before };
      if (hasOwn(e, 'not_after')) entry.not_after = e.not_after;
      keys.push({ entry: entry, publicKey: pk });
    }
    if (p.root_key_id !== keyIdOf(rootPk)) throw bad('root_key_id does not name the signing root');
    for (var k = 0; k < keys.length; k++) {
      if (keyIdOf(keys[k].publicKey) !== keys[k].entry.key_id) throw bad('an intake key\'s id is not derived from its key');
    }
    // The certified forwarding key (§2.5): checked like an intake key, not used by the page.
    if (hasOwn(p, 'forwarding_key')) {
      var f = p.forwarding_key;
      var fpk = isPlainObject(f) && closed(f, ['key_id', 'public_key']) ? base64Decode(f.public_key) : null;
      if (fpk === null || fpk.length !== PUBLIC_KEY_BYTES || f.key_id !== keyIdOf(fpk)) {
        throw bad('the forwarding key entry is not valid');
      }
    }
    var scripts = Object.create(null);
    for (var n = 0; n < scriptNames.length; n++) scripts[scriptNames[n]] = p.scripts[scriptNames[n]];
    return {
      v: 1, serial: p.serial, issued: p.issued, expires: p.expires, root_key_id: p.root_key_id,
      intake_keys: keys.map(function (x) { return x.entry; }), scripts: scripts
    };
  }

  // Verifies a signed keyring file (its bytes, its text or the parsed object) against the
  // pinned root key in the order of §2.5: wrapper, pinned root (wrong_root), signature over
  // "tipgate-keyring-v1" ‖ 0x00 ‖ P (bad_signature), only then P (bad_keyring), and refuses
  // it on a day after `expires` (keyring_expired). Returns the payload with the member names
  // of §2.5.
  function verifyKeyring(file, rootPk, today) {
    if (!(rootPk instanceof Uint8Array) || rootPk.length !== PUBLIC_KEY_BYTES) {
      throw new TypeError('verifyKeyring: the pinned root key must be 32 bytes');
    }
    checkDay(today);
    var w = parseKeyringWrapper(file);
    if (!bytesEqual(w.rootPublicKey, rootPk)) {
      throw failure('wrong_root', 'the keyring is signed by a root other than the pinned one');
    }
    var message = concat(concat(utf8(KEYRING_CONTEXT), new Uint8Array([0])), w.payload);
    if (!naclLib().sign.detached.verify(message, w.signature, w.rootPublicKey)) {
      throw failure('bad_signature', 'the keyring\'s signature is not valid');
    }
    var payload = parseKeyringPayload(w.payload, w.rootPublicKey);
    if (today > payload.expires) throw failure('keyring_expired', 'the keyring expired on ' + payload.expires);
    return payload;
  }

  function inWindow(entry, today) {
    return entry.not_before <= today && (entry.not_after === undefined || today <= entry.not_after);
  }

  // The key to seal to on `today` (§2.5): of the keys whose window holds today, the one with
  // the latest not_before; on a tie, the one later in the list.
  function currentKey(payload, today) {
    checkDay(today);
    var best = null;
    for (var i = 0; i < payload.intake_keys.length; i++) {
      var e = payload.intake_keys[i];
      if (inWindow(e, today) && (best === null || e.not_before >= best.not_before)) best = e;
    }
    if (best === null) throw failure('no_current_key', 'no key in the keyring is in use today');
    return best;
  }

  // A key's status on `today` from the dates alone (§2.5); "retired" if it is not listed.
  function keyStatus(payload, keyId, today) {
    checkDay(today);
    var entry = null;
    for (var i = 0; i < payload.intake_keys.length; i++) {
      if (payload.intake_keys[i].key_id === keyId) entry = payload.intake_keys[i];
    }
    if (entry === null) return 'retired';
    if (today < entry.not_before) return 'pending';
    if (entry.not_after !== undefined && today > entry.not_after) return 'retired';
    var current = null;
    try {
      current = currentKey(payload, today);
    } catch (e) {
      // no key is in its window: then this one is not either
    }
    return current !== null && current.key_id === keyId ? 'active' : 'retiring';
  }

  // The public key document (§2.2) of a keyring entry, for sealTip (which verifies it again).
  function keyDocumentOf(entry) {
    var pk = base64Decode(entry && entry.public_key);
    if (pk === null || pk.length !== PUBLIC_KEY_BYTES) throw failure('invalid_public_key', 'public_key must be 32 bytes in standard base64');
    return { v: 1, key_id: entry.key_id, public_key: entry.public_key, fingerprint: fingerprintOf(pk) };
  }

  // --- §4.6 proof of work ----------------------------------------------------------------

  var POW_CONTEXT = 'tipgate-pow-v1';
  var POW_CHALLENGE_BYTES = 49; // random(16) ‖ expires(8) ‖ difficulty(1) ‖ MAC(24)
  var POW_DIFFICULTY_OFFSET = 24;
  var POW_NONCE_BYTES = 8; // the server takes 1 to 32; a big-endian counter, as tipdesk's solver
  var POW_MAX_NONCE_BYTES = 32;
  var TWO_32 = 4294967296;

  // SHA-512 of m[0..n) into out (64 bytes): tweetnacl's crypto_hash, which is nacl.hash
  // without its allocations; nacl.hash where lowlevel is not there.
  function sha512Into(nacl, out, m) {
    if (nacl.lowlevel && typeof nacl.lowlevel.crypto_hash === 'function') {
      nacl.lowlevel.crypto_hash(out, m, m.length);
    } else {
      out.set(nacl.hash(m));
    }
    return out;
  }

  function leadingZeroBits(hash) {
    var n = 0;
    for (var i = 0; i < hash.length; i++) {
      var b = hash[i];
      if (b !== 0) return n + Math.clz32(b) - 24;
      n += 8;
    }
    return n;
  }

  function checkChallenge(challenge) {
    if (!(challenge instanceof Uint8Array) || challenge.length !== POW_CHALLENGE_BYTES) {
      throw failure('bad_challenge', 'a proof-of-work challenge is 49 bytes');
    }
  }

  // "tipgate-pow-v1" ‖ challenge ‖ SHA-512(sealed), followed by room for `nonceBytes`.
  function powMessage(nacl, challenge, sealed, nonceBytes) {
    checkChallenge(challenge);
    if (!(sealed instanceof Uint8Array)) throw new TypeError('proof of work: sealed must be a Uint8Array');
    var context = utf8(POW_CONTEXT);
    var message = new Uint8Array(context.length + POW_CHALLENGE_BYTES + 64 + nonceBytes);
    message.set(context, 0);
    message.set(challenge, context.length);
    message.set(sha512Into(nacl, new Uint8Array(64), sealed), context.length + POW_CHALLENGE_BYTES);
    return message;
  }

  // Parses the answer of GET /api/v1/challenge (§4.6), its text or the parsed object:
  // {"challenge":"<base64 of 49 bytes>","difficulty":D,"expires":UNIX,"v":1}. The difficulty
  // the server checks is the one inside the challenge, so that is the one returned; an answer
  // whose "difficulty" says otherwise is refused.
  function parseChallenge(answer) {
    var bad = function (why) { return failure('bad_challenge', why); };
    var o = answer;
    if (typeof o === 'string') o = parseJSON(o, 'bad_challenge', 'the challenge');
    if (!closed(o, ['challenge', 'difficulty', 'expires', 'v'])) throw bad('not a v1 proof-of-work challenge');
    if (o.v !== 1) throw bad('not a v1 proof-of-work challenge');
    var bytes = base64Decode(o.challenge);
    if (bytes === null || bytes.length !== POW_CHALLENGE_BYTES) throw bad('the challenge is not 49 bytes in base64');
    if (!Number.isSafeInteger(o.difficulty) || o.difficulty !== bytes[POW_DIFFICULTY_OFFSET]) {
      throw bad('the difficulty does not match the challenge');
    }
    if (!Number.isSafeInteger(o.expires)) throw bad('expires must be a number of seconds');
    return { challenge: bytes, challengeBase64: o.challenge, difficulty: o.difficulty, expires: o.expires };
  }

  // A solver that can be run in slices (the worker reports progress between them, the page
  // without a worker yields to the event loop). Nonces are an 8-byte big-endian counter from
  // 0, as tipdesk's ProofOfWorkSolver counts, so both find the same first nonce.
  function powSolver(challenge, sealed) {
    var nacl = naclLib();
    var message = powMessage(nacl, challenge, sealed, POW_NONCE_BYTES);
    var at = message.length - POW_NONCE_BYTES;
    var difficulty = challenge[POW_DIFFICULTY_OFFSET];
    var out = new Uint8Array(64);
    var counter = 0; // the next nonce to try; exact up to 2^53
    var hasLowlevel = !!(nacl.lowlevel && typeof nacl.lowlevel.crypto_hash === 'function');

    function meets(hash) {
      // leadingZeroBits(hash) >= difficulty, reading only the bytes it needs
      var d = difficulty;
      for (var i = 0; d >= 8; i++, d -= 8) if (hash[i] !== 0) return false;
      return d === 0 || (hash[(difficulty - d) >> 3] >> (8 - d)) === 0;
    }

    function run(count) {
      var end = Math.min(counter + Math.max(0, Math.floor(count)), Number.MAX_SAFE_INTEGER);
      while (counter < end) {
        var hi = Math.floor(counter / TWO_32);
        var lo = counter >>> 0;
        message[at] = hi >>> 24; message[at + 1] = (hi >>> 16) & 255;
        message[at + 2] = (hi >>> 8) & 255; message[at + 3] = hi & 255;
        message[at + 4] = lo >>> 24; message[at + 5] = (lo >>> 16) & 255;
        message[at + 6] = (lo >>> 8) & 255; message[at + 7] = lo & 255;
        counter++;
        if (hasLowlevel) nacl.lowlevel.crypto_hash(out, message, message.length);
        else out.set(nacl.hash(message));
        if (meets(out)) return message.slice(at);
      }
      return null;
    }

    return {
      difficulty: difficulty,
      tried: function () { return counter; },
      run: run
    };
  }

  // Finds a nonce for `challenge` (49 bytes, the difficulty inside it) and `sealed` (the
  // sealed box's bytes) within `maxIterations` hashes (default: 2^32, as tipdesk's), or null.
  function powSolve(challenge, sealed, maxIterations) {
    return powSolver(challenge, sealed).run(maxIterations === undefined ? TWO_32 : maxIterations);
  }

  // The server's check (§4.6) without the MAC, expiry and replay parts: does SHA-512 of the
  // preimage have at least the challenge's difficulty in leading zero bits?
  function powVerify(challenge, sealed, nonce) {
    if (!(nonce instanceof Uint8Array) || nonce.length < 1 || nonce.length > POW_MAX_NONCE_BYTES) return false;
    var nacl = naclLib();
    var message = powMessage(nacl, challenge, sealed, nonce.length);
    message.set(nonce, message.length - nonce.length);
    return leadingZeroBits(sha512Into(nacl, new Uint8Array(64), message)) >= challenge[POW_DIFFICULTY_OFFSET];
  }

  // A copy of a submission {v, key_id, sealed} with "pow":{"challenge","nonce"} added; the
  // challenge as the server sent it (its base64 text), the nonce as bytes.
  function withPow(submission, challengeBase64, nonce) {
    var c = base64Decode(challengeBase64);
    if (c === null || c.length !== POW_CHALLENGE_BYTES) throw failure('bad_challenge', 'the challenge is not 49 bytes in base64');
    if (!(nonce instanceof Uint8Array) || nonce.length < 1 || nonce.length > POW_MAX_NONCE_BYTES) {
      throw new TypeError('withPow: the nonce must be 1 to 32 bytes');
    }
    return {
      v: submission.v, key_id: submission.key_id, sealed: submission.sealed,
      pow: { challenge: challengeBase64, nonce: base64Encode(nonce) }
    };
  }

  var tipgateSeal = {
    keyIdOf: keyIdOf,
    fingerprintOf: fingerprintOf,
    verifyKeyDocument: verifyKeyDocument,
    buildDocument: buildDocument,
    pad: pad,
    sealedBox: sealedBox,
    sealTip: sealTip,
    verifyKeyring: verifyKeyring,
    currentKey: currentKey,
    keyStatus: keyStatus,
    keyDocumentOf: keyDocumentOf,
    todayUTC: todayUTC,
    base64Decode: base64Decode,
    parseChallenge: parseChallenge,
    leadingZeroBits: leadingZeroBits,
    powSolver: powSolver,
    powSolve: powSolve,
    powVerify: powVerify,
    withPow: withPow,
    KEYRING_CONTEXT: KEYRING_CONTEXT,
    POW_CONTEXT: POW_CONTEXT,
    MAX_PADDED_BYTES: MAX_PADDED_BYTES
  };

  if (isNode) {
    module.exports = tipgateSeal; // node (tests, Tests/js/seal-cli.js)
  } else {
    root.tipgateSeal = tipgateSeal; // browser global
  }
})(this);
