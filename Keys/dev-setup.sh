#!/bin/bash
# The dev keys and certificate of `make run` (never for real tips).
#
#   Keys/dev-setup.sh BINDIR DEVDIR
#
# Makes, in DEVDIR, whatever of these is missing: a vault with the dev passphrase and the
# cheap Argon2id profile, its root key, root.json (the root's public document), a signed
# keyring for the page scripts of this build, and a self-signed certificate for localhost and
# 127.0.0.1. Each piece is made only if it is missing, so a DEVDIR left by an older checkout
# (a vault from before keyrings, say) is completed rather than served half-made. Each step's
# notes on stderr are kept quiet, but shown, with the step and a hint, if it fails.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BINDIR DEVDIR" >&2; exit 2; }
BIN=$1
DEV=$2
export TIPDESK_PASSPHRASE=${TIPDESK_PASSPHRASE:-dev-passphrase-not-secret}

mkdir -p "$DEV"
chmod 700 "$DEV"

# One file holds a step's stderr; it goes when the script ends, however it ends.
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

# quiet COMMAND...: runs it with its stderr held back; on failure prints that, the step and a hint.
quiet() {
    if ! "$@" 2>"$LOG"; then
        cat "$LOG" >&2
        echo "dev-setup: failed at: $*" >&2
        echo "hint: remove $DEV/ to start it afresh (make clean-dev, for .dev/): its vault is for trying tipgate only" >&2
        exit 1
    fi
}

if [ ! -d "$DEV/vault/keys" ]; then
    quiet "$BIN/tipdesk" init --vault "$DEV/vault" --kdf interactive >/dev/null
fi
if [ ! -f "$DEV/vault/keys/root.secret" ]; then
    quiet "$BIN/tipdesk" keys init-root --vault "$DEV/vault" --kdf interactive >/dev/null
fi
if [ ! -f "$DEV/root.json" ]; then
    quiet "$BIN/tipdesk" keys export --vault "$DEV/vault" --root --out "$DEV/root.json"
fi
if [ ! -f "$DEV/keyring.json" ]; then
    quiet "$BIN/tipgate" page-hashes >"$DEV/hashes.json"
    quiet "$BIN/tipdesk" keys renew --vault "$DEV/vault" --scripts "$DEV/hashes.json" --out "$DEV/keyring.json"
fi
if [ ! -f "$DEV/cert.pem" ]; then
    quiet "$BIN/tipgate" cert --cert "$DEV/cert.pem" --key "$DEV/key.pem" --name localhost --name 127.0.0.1
fi
