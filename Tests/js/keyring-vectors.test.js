'use strict';
// The keyring vectors (Tests/Vectors/keyring, made with PyNaCl) through the page's verifier:
// the same files the Swift tests run, each expecting success or one error code (SECURITY.md §2.5).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const seal = require('../../Sources/TipServer/Resources/static/seal.js');

const dir = path.join(__dirname, '..', 'Vectors', 'keyring');
const root = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'Vectors', 'test-only-root.json'))).document;
const rootPk = new Uint8Array(Buffer.from(root.public_key, 'base64'));
const vectors = fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();

test('there are keyring vectors', () => assert.ok(vectors.length >= 20));

for (const name of vectors) {
  test(`keyring vector ${name}`, () => {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const split = text.indexOf('\n\n');
    const headers = Object.fromEntries(text.slice(0, split).split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    const body = text.slice(split + 2);
    let got = 'success';
    try {
      seal.verifyKeyring(body, rootPk, headers.today);
    } catch (e) {
      got = e.code;
    }
    assert.strictEqual(got, headers.expect, headers.comment);
  });
}
