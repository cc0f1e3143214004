#!/bin/bash
# Checks the deploy kit without building or touching the system: install.sh --root into a
# temporary fake root with stub binaries, the files and modes it makes, idempotency,
# uninstall, the unit (systemd-analyze verify and security), the torrc (tor --verify-config)
# and shellcheck; and `make run`'s dev set-up (Keys/dev-setup.sh) with the debug build, if one
# is there (make test builds it first; run by hand, it uses whatever .build/debug holds). Ends with "deploy: N passed, M failed"; exits 1 if anything failed.
# Usage: Deploy/check.sh   (make test runs it; about ten seconds, leaves nothing behind)
set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$DEPLOY_DIR")
MAX_EXPOSURE=2.0
LIMIT=120 # seconds, for any one command

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok    $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $*"; }
skip() { echo "skip  $*"; }
# check DESCRIPTION COMMAND...: passes if the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
have() { command -v "$1" >/dev/null 2>&1; }
run() { timeout "$LIMIT" "$@"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tipgate-deploy-check.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ROOT=$TMP/root
BIN=$TMP/bin
LOG=$TMP/log

# Stubs named like the release build: the binary and its resource bundle.
mkdir -p "$BIN/tipgate_TipServer.resources/Resources/i18n"
printf '#!/bin/sh\necho "tipgate stub"\n' > "$BIN/tipgate"
chmod 0755 "$BIN/tipgate"
echo '{}' > "$BIN/tipgate_TipServer.resources/Resources/i18n/en.json"

mode_is() { [ "$(stat -c '%a' "$ROOT$1")" = "$2" ]; }
same() { cmp -s "$1" "$ROOT$2"; }
# manifest: every path, type, mode and content hash in the fake root but the plan.
manifest() {
    (cd "$ROOT" && find . -path ./install-plan.txt -prune -o -printf '%p %y %m %l\n' | sort \
        && find . -type f ! -path ./install-plan.txt -exec sha256sum {} + | sort)
}

# --- install ---------------------------------------------------------------------------
if run "$DEPLOY_DIR/install.sh" --root "$ROOT" --bin "$BIN" > "$LOG" 2>&1; then
    pass "install.sh --root into a fresh fake root"
else
    fail "install.sh --root into a fresh fake root"; sed 's/^/      /' "$LOG"
fi
check "/var/lib/tipgate is 0700" mode_is /var/lib/tipgate 700
check "/etc/tipgate is 0750" mode_is /etc/tipgate 750
check "/etc/tipgate/tls is 0750" mode_is /etc/tipgate/tls 750
# installed SRC DEST MODE: DEST in the fake root is a copy of SRC with that mode.
installed() { same "$1" "$2" && mode_is "$2" "$3"; }
linked() {
    [ -L "$ROOT/usr/local/bin/tipgate" ] \
        && [ "$(cd "$ROOT/usr/local/bin" && readlink -f tipgate)" = "$(readlink -f "$ROOT/usr/local/lib/tipgate/tipgate")" ]
}
planned() {
    grep -q '^apt-get install .*node-tweetnacl' "$ROOT/install-plan.txt" \
        && grep -q '^useradd --system .* tipgate' "$ROOT/install-plan.txt" \
        && grep -qx 'chown tipgate:tipgate /var/lib/tipgate' "$ROOT/install-plan.txt"
}
check "/etc/tipgate/tipgate.json is the example, 0640" \
    installed "$DEPLOY_DIR/tipgate.example.json" /etc/tipgate/tipgate.json 640
check "/usr/local/lib/tipgate/tipgate is the binary, 0755" installed "$BIN/tipgate" /usr/local/lib/tipgate/tipgate 755
check "the resource bundle sits next to the binary" \
    diff -rq "$BIN/tipgate_TipServer.resources" "$ROOT/usr/local/lib/tipgate/tipgate_TipServer.resources"
check "/usr/local/bin/tipgate links to it" linked
check "the unit is installed, 0644" installed "$DEPLOY_DIR/tipgate.service" /etc/systemd/system/tipgate.service 644
check "the torrc snippet is installed, 0644" installed "$DEPLOY_DIR/torrc" /etc/tor/torrc.d/tipgate.conf 644
check "/etc/tor/torrc includes torrc.d" grep -qxF '%include /etc/tor/torrc.d/*.conf' "$ROOT/etc/tor/torrc"
check "the plan records apt-get, useradd and chown" planned
check "the plan verifies tor's config before reloading tor" grep -q -- '--verify-config' "$ROOT/install-plan.txt"

# --- idempotency and the admin's config --------------------------------------------------
manifest > "$TMP/before"
if run "$DEPLOY_DIR/install.sh" --root "$ROOT" --bin "$BIN" > "$LOG" 2>&1 && grep -q 'nothing to do' "$LOG" \
    && manifest | cmp -s - "$TMP/before"; then
    pass "a second install changes nothing and says so"
else
    fail "a second install changes nothing and says so"; sed 's/^/      /' "$LOG"
fi
echo '{"data":"/srv/tipgate"}' > "$ROOT/etc/tipgate/tipgate.json"
run "$DEPLOY_DIR/install.sh" --root "$ROOT" --bin "$BIN" > "$LOG" 2>&1 || true
kept() { grep -q /srv/tipgate "$ROOT/etc/tipgate/tipgate.json" && grep -q 'kept your /etc/tipgate/tipgate.json' "$LOG"; }
check "an existing /etc/tipgate/tipgate.json is never overwritten" kept
cp "$DEPLOY_DIR/tipgate.example.json" "$ROOT/etc/tipgate/tipgate.json"
refuses_bad_bin() { ! run "$DEPLOY_DIR/install.sh" --root "$TMP/other" --bin "$TMP" >/dev/null 2>&1; }
check "install.sh refuses a --bin without the resource bundle" refuses_bad_bin

# --- the example config has every key of SECURITY.md §7 ------------------------------------
if have python3 && [ -f "$REPO_DIR/SECURITY.md" ]; then
    if out=$(python3 - "$REPO_DIR/SECURITY.md" "$DEPLOY_DIR/tipgate.example.json" 2>&1 <<'EOF'
import json, re, sys
spec = open(sys.argv[1], encoding="utf-8").read()
section = spec.split("## §7", 1)[1].split("\n## ", 1)[0]
keys = re.findall(r"^\| `([A-Za-z.]+)` \|", section, re.M)
doc = json.load(open(sys.argv[2], encoding="utf-8"))
def get(d, dotted):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d
missing = [k for k in keys if get(doc, k) is None]
if not keys or missing:
    sys.exit("missing: " + ", ".join(missing or ["(no keys found in §7)"]))
if doc["listen"] != "127.0.0.1:8443" or not doc["rootKey"] or doc["publicKey"]:
    sys.exit("a Tor deployment listens on 127.0.0.1:8443 with rootKey and no publicKey")
print(len(keys))
EOF
    ); then
        pass "tipgate.example.json is valid JSON with all $out keys of SECURITY.md §7"
    else
        fail "tipgate.example.json against SECURITY.md §7: $out"
    fi
else
    skip "tipgate.example.json against SECURITY.md §7 (no python3)"
fi

# --- the unit ----------------------------------------------------------------------------
UNIT=$ROOT/etc/systemd/system/tipgate.service
for line in 'User=tipgate' 'ExecStart=/usr/local/bin/tipgate serve --config /etc/tipgate/tipgate.json' \
    'LimitCORE=0' 'MemorySwapMax=0' 'LimitNOFILE=65536' 'MemoryDenyWriteExecute=yes' 'ReadWritePaths=/var/lib/tipgate' 'IPAddressDeny=any' \
    'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' 'SystemCallErrorNumber=EPERM'; do
    check "the unit has $line" grep -qxF "$line" "$UNIT"
done
if have systemd-analyze; then
    # verify --root needs the system's units (sysinit.target and the rest) inside the root.
    unit_dir=""
    for d in /usr/lib/systemd/system /lib/systemd/system; do [ -d "$d" ] && { unit_dir=$d; break; }; done
    if [ -n "$unit_dir" ]; then
        mkdir -p "$ROOT/usr/lib/systemd"
        cp -R "$unit_dir" "$ROOT/usr/lib/systemd/system"
        if run systemd-analyze verify --root="$ROOT" tipgate.service > "$LOG" 2>&1 && [ ! -s "$LOG" ]; then
            pass "systemd-analyze verify: the installed unit is clean"
        else
            fail "systemd-analyze verify on the installed unit"; sed 's/^/      /' "$LOG"
        fi
        rm -rf "$ROOT/usr/lib/systemd/system"
    else
        skip "systemd-analyze verify (no system unit directory to verify against)"
    fi
    run systemd-analyze security --offline=true "$UNIT" > "$LOG" 2>&1 || true
    score=$(sed -n 's/.*Overall exposure level for tipgate.service: \([0-9.]*\).*/\1/p' "$LOG")
    if [ -z "$score" ]; then
        fail "systemd-analyze security: no overall exposure level"; sed 's/^/      /' "$LOG"
    elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s < m) }'; then
        pass "systemd-analyze security --offline=true: exposure $score (< $MAX_EXPOSURE)"
    else
        fail "systemd-analyze security --offline=true: exposure $score (must be < $MAX_EXPOSURE)"
        grep '✗' "$LOG" | sed 's/^/      /' || true
    fi
else
    skip "systemd-analyze verify and security (systemd-analyze is not installed)"
fi

# --- the torrc -----------------------------------------------------------------------------
check "the public onion service has proof of work" grep -qx 'HiddenServicePoWDefensesEnabled 1' "$DEPLOY_DIR/torrc"
check "the torrc keeps SafeLogging on" grep -qx 'SafeLogging 1' "$DEPLOY_DIR/torrc"
if have tor; then
    # A throwaway torrc around the installed snippet, with the onion directories moved into
    # the temporary directory: tor then needs no access to /var/lib/tor and writes nothing there.
    mkdir -m 0700 "$TMP/tor-data"
    sed "s|^HiddenServiceDir /var/lib/tor/|HiddenServiceDir $TMP/tor-data/|" \
        "$ROOT/etc/tor/torrc.d/tipgate.conf" > "$TMP/tipgate.conf"
    printf 'DataDirectory %s\nSocksPort 0\n%%include %s\n' "$TMP/tor-data" "$TMP/tipgate.conf" > "$TMP/torrc"
    if run tor --verify-config -f "$TMP/torrc" > "$LOG" 2>&1 && grep -q 'Configuration was valid' "$LOG"; then
        pass "tor --verify-config accepts the snippet ($(tor --version 2>/dev/null | head -n 1 | sed 's/\.$//'))"
    else
        fail "tor --verify-config on the snippet (tor 0.4.8+ is needed for PoW)"; grep -E '\[(warn|err)\]' "$LOG" | sed 's/^/      /' || true
    fi
else
    skip "tor --verify-config (tor is not installed)"
fi

# --- shellcheck ----------------------------------------------------------------------------
if have shellcheck; then
    if run shellcheck "$DEPLOY_DIR/install.sh" "$DEPLOY_DIR/check.sh" "$REPO_DIR/Keys/dev-setup.sh" > "$LOG" 2>&1; then
        pass "shellcheck install.sh check.sh dev-setup.sh"
    else
        fail "shellcheck"; sed 's/^/      /' "$LOG"
    fi
else
    skip "shellcheck (not installed)"
fi

# --- uninstall -------------------------------------------------------------------------------
if run "$DEPLOY_DIR/install.sh" --uninstall --root "$ROOT" > "$LOG" 2>&1 \
    && [ ! -e "$ROOT/usr/local/lib/tipgate" ] && [ ! -L "$ROOT/usr/local/bin/tipgate" ] \
    && [ ! -e "$UNIT" ] && [ ! -e "$ROOT/etc/tor/torrc.d/tipgate.conf" ] \
    && ! grep -qF 'torrc.d' "$ROOT/etc/tor/torrc" \
    && [ -d "$ROOT/var/lib/tipgate" ] && [ -f "$ROOT/etc/tipgate/tipgate.json" ]; then
    pass "--uninstall removes binaries, unit and torrc snippet, keeps data and config"
else
    fail "--uninstall"; sed 's/^/      /' "$LOG"
fi
purge_asks() {
    ! run "$DEPLOY_DIR/install.sh" --uninstall --purge-data --root "$ROOT" </dev/null >/dev/null 2>&1 \
        && [ -d "$ROOT/var/lib/tipgate" ]
}
purge_yes() {
    run "$DEPLOY_DIR/install.sh" --uninstall --purge-data --yes --root "$ROOT" >/dev/null 2>&1 \
        && [ ! -e "$ROOT/var/lib/tipgate" ] && [ ! -e "$ROOT/etc/tipgate" ]
}
check "--purge-data without --yes refuses when no one can confirm" purge_asks
check "--purge-data --yes deletes data and config" purge_yes
# An admin's existing torrc comes back byte for byte after install and uninstall.
torrc_restored() {
    local r=$TMP/root2
    mkdir -p "$r/etc/tor"
    printf 'SocksPort 0\n\n# an admin comment\nLog notice file /var/log/tor/notices.log\n\n' > "$r/etc/tor/torrc"
    cp "$r/etc/tor/torrc" "$TMP/torrc.orig"
    run "$DEPLOY_DIR/install.sh" --root "$r" --bin "$BIN" >/dev/null 2>&1 \
        && grep -qxF '%include /etc/tor/torrc.d/*.conf' "$r/etc/tor/torrc" \
        && run "$DEPLOY_DIR/install.sh" --uninstall --root "$r" >/dev/null 2>&1 \
        && cmp -s "$TMP/torrc.orig" "$r/etc/tor/torrc"
}
check "an existing /etc/tor/torrc is restored exactly by --uninstall" torrc_restored

# --- make run's dev keys and certificate (Keys/dev-setup.sh) ---------------------------------
DEBUG_BIN=$REPO_DIR/.build/debug
if [ -x "$DEBUG_BIN/tipdesk" ] && [ -x "$DEBUG_BIN/tipgate" ]; then
    dev_fresh() {
        local d=$TMP/dev
        run bash "$REPO_DIR/Keys/dev-setup.sh" "$DEBUG_BIN" "$d" >"$TMP/dev.log" 2>&1 \
            && [ -f "$d/vault/keys/root.secret" ] && [ -s "$d/root.json" ] && [ -s "$d/keyring.json" ] \
            && [ -s "$d/cert.pem" ] && [ -s "$d/key.pem" ] && [ "$(stat -c '%a' "$d")" = 700 ] \
            && [ ! -s "$TMP/dev.log" ]
    }
    check "the dev set-up makes a vault, root, keyring and certificate, quietly" dev_fresh
    dev_again() {
        local d=$TMP/dev
        find "$d" -type f -exec sha256sum {} + | sort >"$TMP/dev.before"
        run bash "$REPO_DIR/Keys/dev-setup.sh" "$DEBUG_BIN" "$d" >/dev/null 2>&1 \
            && find "$d" -type f -exec sha256sum {} + | sort | cmp -s - "$TMP/dev.before"
    }
    check "the dev set-up run again changes nothing" dev_again
    # A vault made under another passphrase: the step that needs the root secret fails, and
    # the tool's own message is shown, not only make's "Error 1".
    dev_fails_aloud() {
        local d=$TMP/dev-other
        mkdir -m 700 "$d"
        TIPDESK_PASSPHRASE=another-passphrase-entirely run "$DEBUG_BIN/tipdesk" init --vault "$d/vault" --kdf interactive >/dev/null 2>&1
        TIPDESK_PASSPHRASE=another-passphrase-entirely run "$DEBUG_BIN/tipdesk" keys init-root --vault "$d/vault" --kdf interactive >/dev/null 2>&1
        ! run bash "$REPO_DIR/Keys/dev-setup.sh" "$DEBUG_BIN" "$d" >"$TMP/dev-other.log" 2>&1 \
            && grep -q '^tipdesk: error: wrong passphrase' "$TMP/dev-other.log" \
            && grep -q '^dev-setup: failed at: .*tipdesk keys renew' "$TMP/dev-other.log" \
            && grep -q "^hint: remove $d/ to start it afresh" "$TMP/dev-other.log"
    }
    check "a failing dev set-up step shows the tool's error, the step and a hint" dev_fails_aloud
else
    skip "the dev set-up: no debug build in .build/debug (make test builds one)"
fi

echo "deploy: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
