#!/usr/bin/env node
/*
 * Seals a tip read from stdin with the browser code (static/seal.js, static/blake2b.js and
 * tweetnacl) and prints the submission JSON on one line, so Swift tests can open what the
 * browser would send with libsodium.
 *
 *   node Tests/js/seal-cli.js PUBLIC_KEY_JSON [--lang L] [--field name=value]... < tip.txt
 *
 * Exits 1 with a message on stderr on any error; the message never quotes the tip.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const seal = require(path.join(__dirname, '..', '..', 'Sources', 'TipServer', 'Resources', 'static', 'seal.js'));

const USAGE = 'usage: node Tests/js/seal-cli.js PUBLIC_KEY_JSON [--lang L] [--field name=value]... < tip.txt';

function fail(message) {
  process.stderr.write('seal-cli: error: ' + message + '\n');
  process.exit(1);
}

function parseArgs(argv) {
  let keyPath = null;
  let lang;
  const fields = Object.create(null);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let name = arg;
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { // --lang=ru, --field=name=value
      name = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (name === '--lang' || name === '--field') {
      if (value === undefined) {
        if (i + 1 >= argv.length) fail(name + ' needs a value\n' + USAGE);
        value = argv[++i];
      }
      if (name === '--lang') {
        lang = value;
      } else {
        const sep = value.indexOf('=');
        if (sep < 0) fail('--field takes name=value\n' + USAGE);
        fields[value.slice(0, sep)] = value.slice(sep + 1);
      }
    } else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (arg.startsWith('-') && arg !== '-') {
      fail('unknown option ' + JSON.stringify(arg) + '\n' + USAGE);
    } else if (keyPath === null) {
      keyPath = arg;
    } else {
      fail('one public key document only\n' + USAGE);
    }
  }
  if (keyPath === null) fail('missing PUBLIC_KEY_JSON\n' + USAGE);
  return { keyPath, lang, fields };
}

function main() {
  const args = parseArgs(process.argv.slice(2));

  let keyText;
  try {
    keyText = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(args.keyPath));
  } catch (e) {
    fail('cannot read ' + args.keyPath + ' as UTF-8 text');
  }

  let body;
  try {
    // fatal: invalid UTF-8 is refused, not replaced; ignoreBOM: a leading U+FEFF is kept as
    // part of the text, exactly as the bytes say.
    body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(fs.readFileSync(0));
  } catch (e) {
    fail('the tip on stdin is not valid UTF-8 text');
  }

  let submission;
  try {
    submission = seal.sealTip({ body, fields: args.fields, lang: args.lang }, keyText);
  } catch (e) {
    fail((e && e.code ? e.code + ': ' : '') + (e && e.message ? e.message : 'sealing failed'));
  }
  process.stdout.write(JSON.stringify(submission) + '\n');
}

main();
