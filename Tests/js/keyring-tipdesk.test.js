// Cross-implementation test of the signed keyring (SECURITY.md §2.5, §2.6): keyrings made by
// the real tipdesk (Swift, libsodium) are verified by the browser code through
// Tests/js/keyring-cli.js, which must pick the same current key tipdesk reports; tampered
// copies must be refused with the same code as `tipgate keys install` gives.
//
// Uses the already-built binaries in .build/debug (or TIPGATE_BIN_DIR) and skips, saying so,
// if they are not there. Run with `node --test Tests/js/`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const REPO = path.join(__dirname, '..', '..');
const BIN_DIR = path.resolve(REPO, process.env.TIPGATE_BIN_DIR || '.build/debug');
const TIPDESK = path.join(BIN_DIR, 'tipdesk');
const TIPGATE = path.join(BIN_DIR, 'tipgate');
const CLI = path.join(__dirname, 'keyring-cli.js');
const seal = require(path.join(REPO, 'Sources', 'TipServer', 'Resources', 'static', 'seal.js'));

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch (e) {
    return false;
  }
}

const missing = [TIPDESK, TIPGATE].filter((p) => !executable(p));
const SKIP = missing.length > 0
  ? 'skipped: ' + missing.join(' and ') + ' not built (run `swift build`, or set TIPGATE_BIN_DIR)'
  : false;

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: Object.assign({}, process.env, env || {}), timeout: 60000 });
  if (r.error) throw r.error;
  return r;
}

function ok(cmd, args, env) {
  const r = run(cmd, args, env);
  assert.equal(r.status, 0, path.basename(cmd) + ' ' + args.slice(0, 2).join(' ') + ' failed: ' + r.stderr);
  return r;
}

function cli(keyring, root, day) {
  const r = run(process.execPath, [CLI, keyring, root].concat(day ? [day] : []));
  const m = /^keyring-cli: error: ([a-z_]+): /.exec(r.stderr);
  return { status: r.status, keyId: r.stdout.trim(), code: m ? m[1] : null, stderr: r.stderr };
}

function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return seal.todayUTC(d);
}

test('keyrings made by tipdesk: the browser code verifies them and picks tipdesk\'s current key', { skip: SKIP }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tipgate-keyring-js-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { TIPDESK_PASSPHRASE: 'keyring-js-test-' + process.pid + '-' + Date.now() };
  const V = path.join(dir, 'vault');
  const K1 = path.join(dir, 'K1.json');
  const K2 = path.join(dir, 'K2.json');
  const ROOT = path.join(dir, 'root.json');

  const init = ok(TIPDESK, ['init', '--vault', V, '--kdf', 'interactive'], env);
  const firstKey = /^key id:\s+([0-9a-f]{16})$/m.exec(init.stdout)[1];
  ok(TIPDESK, ['keys', 'init-root', '--vault', V, '--kdf', 'interactive'], env);
  ok(TIPDESK, ['keys', 'renew', '--vault', V, '--out', K1], env);
  ok(TIPDESK, ['keys', 'export', '--vault', V, '--root', '--out', ROOT], env);
  const today = seal.todayUTC();

  // Serial 1: one key, current.
  let r = cli(K1, ROOT);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.keyId, firstKey);

  // Rotation with a 14-day overlap: the new key is current at once, the old one retiring.
  const rotate = ok(TIPDESK, ['keys', 'rotate', '--vault', V, '--overlap', '14d', '--kdf', 'interactive', '--out', K2], env);
  const newKey = /^new key:\s+([0-9a-f]{16})$/m.exec(rotate.stdout)[1];
  assert.notEqual(newKey, firstKey);
  r = cli(K2, ROOT);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.keyId, newKey, 'the browser code seals to the key tipdesk just made');
  assert.equal(cli(K2, ROOT, addDays(today, 15)).keyId, newKey, 'after the overlap');
  assert.equal(cli(K1, ROOT).keyId, firstKey, 'the older keyring still verifies (rollback is the server\'s check)');

  // Each key's status agrees with `tipdesk keys list` (which shows the vault's latest keyring).
  const payload = seal.verifyKeyring(new Uint8Array(fs.readFileSync(K2)), seal.base64Decode(JSON.parse(fs.readFileSync(ROOT, 'utf8')).public_key), today);
  const listed = [...ok(TIPDESK, ['keys', 'list', '--vault', V], env).stdout.matchAll(/^key\s+([0-9a-f]{16})\s+([a-z]+)/gm)];
  assert.deepEqual(listed.map((m) => m[1]).sort(), payload.intake_keys.map((k) => k.key_id).sort());
  for (const [, id, status] of listed) {
    assert.equal(seal.keyStatus(payload, id, today), status, 'status of ' + id);
  }
  assert.deepEqual(Object.fromEntries(listed.map((m) => [m[1], m[2]])), { [firstKey]: 'retiring', [newKey]: 'active' });
  const oldEntry = payload.intake_keys.find((k) => k.key_id === firstKey);
  assert.equal(oldEntry.not_after, addDays(today, 14));
  assert.equal(seal.keyStatus(payload, firstKey, addDays(today, 15)), 'retired');

  // Expiry: tipdesk signs for 90 days.
  assert.equal(payload.expires, addDays(today, 90));
  r = cli(K2, ROOT, addDays(payload.expires, 1));
  assert.equal(r.status, 1);
  assert.equal(r.code, 'keyring_expired');
  assert.equal(cli(K2, ROOT, payload.expires).keyId, newKey);

  // Another vault's root: wrong_root.
  const V2 = path.join(dir, 'vault2');
  const ROOT2 = path.join(dir, 'root2.json');
  ok(TIPDESK, ['init', '--vault', V2, '--kdf', 'interactive'], env);
  ok(TIPDESK, ['keys', 'init-root', '--vault', V2, '--kdf', 'interactive'], env);
  ok(TIPDESK, ['keys', 'export', '--vault', V2, '--root', '--out', ROOT2], env);
  r = cli(K2, ROOT2);
  assert.equal(r.status, 1);
  assert.equal(r.code, 'wrong_root');

  // Tampered copies: the browser code and the server (tipgate keys install) give the same code.
  const wrapper = JSON.parse(fs.readFileSync(K2, 'utf8'));
  const p = Buffer.from(wrapper.payload, 'base64').toString('utf8');
  const sig = Buffer.from(wrapper.signature, 'base64');
  sig[5] ^= 0x40;
  const tampered = [
    ['serial changed', Object.assign({}, wrapper, { payload: Buffer.from(p.replace('"serial":2', '"serial":3')).toString('base64') }), 'bad_signature'],
    ['signature bit flipped', Object.assign({}, wrapper, { signature: sig.toString('base64') }), 'bad_signature'],
    ['unknown wrapper member', Object.assign({}, wrapper, { note: 'x' }), 'bad_keyring'],
    ['truncated', JSON.stringify(wrapper).slice(0, 200), 'bad_keyring'],
    ['another root named', Object.assign({}, wrapper, { root_public_key: JSON.parse(fs.readFileSync(ROOT2, 'utf8')).public_key }), 'wrong_root'],
  ];
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  for (const [name, file, expected] of tampered) {
    const f = path.join(dir, name.replace(/ /g, '-') + '.json');
    fs.writeFileSync(f, typeof file === 'string' ? file : JSON.stringify(file) + '\n');
    r = cli(f, ROOT);
    assert.equal(r.status, 1, name + ': ' + r.stdout);
    assert.equal(r.code, expected, name + ': ' + r.stderr);
    const server = run(TIPGATE, ['keys', 'install', '--data', data, '--root-key', ROOT, f]);
    assert.equal(server.status, 1, name + ': tipgate keys install accepted it');
    assert.match(server.stderr, new RegExp('\\(' + expected + '\\)'), name + ': tipgate says ' + server.stderr);
  }
  // The genuine file installs, and the browser code agrees with what the server installed.
  const installed = ok(TIPGATE, ['keys', 'install', '--data', data, '--root-key', ROOT, K2]);
  assert.match(installed.stderr, /serial 2/);
  assert.equal(cli(path.join(data, 'keyring.json'), ROOT).keyId, newKey);
});

test('keyring-cli: usage errors exit 2, a bad root document is bad_root_key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tipgate-keyring-cli-'));
  try {
    assert.equal(run(process.execPath, [CLI]).status, 2);
    assert.equal(run(process.execPath, [CLI, 'a', 'b', '2026-01-01', 'd']).status, 2);
    const keyring = path.join(dir, 'k.json');
    const root = path.join(dir, 'r.json');
    fs.writeFileSync(keyring, '{}');
    fs.writeFileSync(root, JSON.stringify({ v: 1, type: 'intake', key_id: '0'.repeat(16), public_key: 'AAAA', fingerprint: 'x' }));
    const r = cli(keyring, root);
    assert.equal(r.status, 1);
    assert.equal(r.code, 'bad_root_key');
    assert.equal(run(process.execPath, [CLI, keyring, root, '2026-13-01']).status, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
