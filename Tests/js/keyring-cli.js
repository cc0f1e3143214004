#!/usr/bin/env node
/*
 * Verifies a signed keyring with the browser code (static/seal.js, tweetnacl) exactly as the
 * witness page does, and prints the key id of its current key: the key the page would seal
 * to (SECURITY.md §2.5). Used to check the browser code against keyrings made by tipdesk.
 *
 *   node Tests/js/keyring-cli.js KEYRING_FILE ROOT_PUBLIC_JSON [YYYY-MM-DD]
 *
 * ROOT_PUBLIC_JSON is the root's public document (tipdesk keys export --root), checked as
 * §2.4 says; the day defaults to today in UTC. On failure it exits 1 and writes
 * "keyring-cli: error: CODE: message" to stderr, CODE being the §2.5 code (wrong_root,
 * bad_signature, bad_keyring, keyring_expired, …) or bad_root_key for the root document.
 * Usage errors exit 2.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const seal = require(path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static', 'seal.js'));

const USAGE = 'usage: node Tests/js/keyring-cli.js KEYRING_FILE ROOT_PUBLIC_JSON [YYYY-MM-DD]';

function fail(code, message) {
  process.stderr.write('keyring-cli: error: ' + code + ': ' + message + '\n');
  process.exit(1);
}

function usage(message) {
  process.stderr.write('keyring-cli: ' + message + '\n' + USAGE + '\n');
  process.exit(2);
}

// The root's public document (§2.4): closed, v 1, type "root", key_id and fingerprint
// ("root:" + the §2.1 fingerprint) derived from public_key. Returns the 32 key bytes.
function rootKeyFrom(text) {
  const bad = (why) => fail('bad_root_key', why);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    bad('the root key document is not JSON');
  }
  const names = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc).sort().join(',') : '';
  if (names !== 'fingerprint,key_id,public_key,type,v') bad('not a v1 root key document');
  if (doc.v !== 1 || doc.type !== 'root') bad('not a v1 root key document');
  const pk = seal.base64Decode(doc.public_key);
  if (pk === null || pk.length !== 32) bad('public_key is not 32 bytes in standard base64');
  if (doc.key_id !== seal.keyIdOf(pk) || doc.fingerprint !== 'root:' + seal.fingerprintOf(pk)) {
    bad("the root key's id or fingerprint is not derived from its key");
  }
  return pk;
}

function main() {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown !== undefined) usage('unknown option ' + JSON.stringify(unknown));
  if (args.length < 2 || args.length > 3) usage('expected 2 or 3 arguments');
  const [keyringPath, rootPath, dayArg] = args;
  const today = dayArg === undefined ? seal.todayUTC() : dayArg;
  const parsed = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(today) ? new Date(today + 'T00:00:00Z') : null;
  if (parsed === null || isNaN(parsed) || seal.todayUTC(parsed) !== today) usage('the day must be a date YYYY-MM-DD');

  let file;
  let rootText;
  try {
    file = fs.readFileSync(keyringPath);
  } catch (e) {
    usage('cannot read ' + keyringPath);
  }
  try {
    rootText = fs.readFileSync(rootPath, 'utf8');
  } catch (e) {
    usage('cannot read ' + rootPath);
  }
  const rootPk = rootKeyFrom(rootText);

  let entry;
  try {
    const payload = seal.verifyKeyring(new Uint8Array(file), rootPk, today);
    entry = seal.currentKey(payload, today);
  } catch (e) {
    fail(e && e.code ? e.code : 'error', e && e.message ? e.message : 'verification failed');
  }
  process.stdout.write(entry.key_id + '\n');
}

main();
