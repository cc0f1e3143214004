#!/bin/bash
# tipgate: install, upgrade or remove the server on Debian 12 (Deploy/README.md).
#
#   install.sh [--bin DIR] [--root DIR]
#   install.sh --uninstall [--purge-data [--yes]] [--root DIR]
#
# Install is idempotent: a second run changes nothing and says so. It never overwrites
# /etc/tipgate/tipgate.json. Uninstall keeps /var/lib/tipgate and /etc/tipgate unless
# --purge-data is given. --root DIR installs into DIR as a fake filesystem root, for
# testing: no apt, no useradd, no chown, no systemctl; what it would have done goes to
# DIR/install-plan.txt.
set -euo pipefail

PROG=install.sh
DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$DEPLOY_DIR")

PACKAGES=(libsodium23 libsqlite3-0 node-tweetnacl tor openssl ca-certificates)
USER_NAME=tipgate
RESOURCES=tipgate_TipServer.resources
INCLUDE_LINE='%include /etc/tor/torrc.d/*.conf'
INCLUDE_MARK='# added by tipgate install.sh: read the snippets in /etc/tor/torrc.d/'

usage() {
    sed -n '4,5s/^#   /usage: /p' "${BASH_SOURCE[0]}"
    echo "  --bin DIR      where the release build is (default: $REPO_DIR/.build/release)"
    echo "  --root DIR     install under DIR as a fake root (testing; nothing outside DIR changes)"
    echo "  --uninstall    remove binaries, unit and torrc snippet; keep data and config"
    echo "  --purge-data   with --uninstall: also delete /var/lib/tipgate, /etc/tipgate and the onion keys"
    echo "  --yes          with --purge-data: do not ask"
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*"; }

BIN_DIR="$REPO_DIR/.build/release"
ROOT=""
MODE=install
PURGE=no
ASSUME_YES=no
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) [ $# -ge 2 ] || die "--bin needs a directory"; BIN_DIR=$2; shift 2 ;;
        --bin=*) BIN_DIR=${1#--bin=}; shift ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#--root=}; shift ;;
        --uninstall) MODE=uninstall; shift ;;
        --purge-data) PURGE=yes; shift ;;
        --yes|-y) ASSUME_YES=yes; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[ "$PURGE" = no ] || [ "$MODE" = uninstall ] || die "--purge-data goes with --uninstall"

if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" != / ] || die "--root / is the real system: leave --root out instead"
    PLAN="$ROOT/install-plan.txt"
    : > "$PLAN"
else
    [ "$(id -u)" = 0 ] || die "run as root (or with --root DIR to try it out)"
    [ -d /run/systemd/system ] || die "systemd is not running here; use --root DIR to try the install"
    PLAN=""
fi

# Paths on the target system; R() adds the fake root in --root mode.
R() { printf '%s%s' "$ROOT" "$1"; }
LIB_DIR=/usr/local/lib/tipgate
BIN_LINK=/usr/local/bin/tipgate
DOC_DIR=/usr/local/share/doc/tipgate
DATA_DIR=/var/lib/tipgate
CONF_DIR=/etc/tipgate
CONF_FILE=/etc/tipgate/tipgate.json
TLS_DIR=/etc/tipgate/tls
UNIT_FILE=/etc/systemd/system/tipgate.service
TORRC=/etc/tor/torrc
TORRC_DIR=/etc/tor/torrc.d
TORRC_SNIPPET=/etc/tor/torrc.d/tipgate.conf
ONION_PUBLIC=/var/lib/tor/tipgate-public
ONION_ADMIN=/var/lib/tor/tipgate-admin

CHANGES=0
changed() { CHANGES=$((CHANGES + 1)); say "$*"; }
# Runs a command on the real system, or records it in the plan in --root mode.
act() {
    if [ -n "$ROOT" ]; then
        printf '%s\n' "$*" >> "$PLAN"
    else
        "$@"
    fi
}

# The install_* helpers set DID to yes when they changed something. They always return 0:
# a function called as "f && x" would run with errexit off, and a failed cp must stop us.
DID=no

# install_file SRC DEST MODE [OWNER:GROUP]: copies if absent or different (atomic rename).
install_file() {
    local src=$1 dest=$2 mode=$3 owner=${4:-root:root} target
    DID=no
    target=$(R "$dest")
    if [ -f "$target" ] && cmp -s "$src" "$target"; then
        ensure_mode "$dest" "$mode" "$owner"
        return 0
    fi
    mkdir -p "$(dirname "$target")"
    cp "$src" "$target.tipgate-new"
    chmod "$mode" "$target.tipgate-new"
    [ -n "$ROOT" ] || chown "$owner" "$target.tipgate-new"
    mv -f "$target.tipgate-new" "$target"
    [ -z "$ROOT" ] || printf 'chown %s %s\n' "$owner" "$dest" >> "$PLAN"
    changed "installed $dest"
    DID=yes
}

# ensure_dir DIR MODE OWNER:GROUP
ensure_dir() {
    local dir=$1 mode=$2 owner=$3 target
    target=$(R "$dir")
    if [ ! -d "$target" ]; then
        mkdir -p "$target"
        chmod "$mode" "$target"
        if [ -n "$ROOT" ]; then printf 'chown %s %s\n' "$owner" "$dir" >> "$PLAN"; else chown "$owner" "$target"; fi
        changed "created $dir (mode $mode, $owner)"
        return
    fi
    ensure_mode "$dir" "$mode" "$owner"
}

# ensure_mode PATH MODE OWNER:GROUP: fixes a mode or owner that drifted.
ensure_mode() {
    local path=$1 mode=$2 owner=$3 target have
    target=$(R "$path")
    have=$(stat -c '%a' "$target")
    if [ "$have" != "${mode#0}" ]; then
        chmod "$mode" "$target"
        changed "set mode $mode on $path (was $have)"
    fi
    if [ -n "$ROOT" ]; then
        printf 'chown %s %s\n' "$owner" "$path" >> "$PLAN"
    elif [ "$(stat -c '%U:%G' "$target")" != "$owner" ]; then
        chown "$owner" "$target"
        changed "set owner $owner on $path"
    fi
}

# install_tree SRC DEST: a directory copy that is replaced whole when anything differs.
install_tree() {
    local src=$1 dest=$2 target
    DID=no
    target=$(R "$dest")
    if [ -d "$target" ] && diff -rq "$src" "$target" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$target.tipgate-new"
    cp -R "$src" "$target.tipgate-new"
    find "$target.tipgate-new" -type d -exec chmod 0755 {} +
    find "$target.tipgate-new" -type f -exec chmod 0644 {} +
    [ -n "$ROOT" ] || chown -R root:root "$target.tipgate-new"
    rm -rf "$target"
    mv "$target.tipgate-new" "$target"
    changed "installed $dest/"
    DID=yes
}

install_packages() {
    local missing=() p
    if [ -n "$ROOT" ]; then
        printf 'apt-get install -y --no-install-recommends %s  # those missing\n' "${PACKAGES[*]}" >> "$PLAN"
        return
    fi
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    say "installing packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    changed "installed packages: ${missing[*]}"
}

ensure_user() {
    if [ -n "$ROOT" ]; then
        printf 'useradd --system --user-group --home-dir %s --no-create-home --shell /usr/sbin/nologin %s  # unless it exists\n' \
            "$DATA_DIR" "$USER_NAME" >> "$PLAN"
        return
    fi
    getent passwd "$USER_NAME" >/dev/null && return 0
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "tipgate server" "$USER_NAME"
    changed "created system user $USER_NAME"
}

# Makes /etc/tor/torrc read /etc/tor/torrc.d/*.conf (Debian's torrc does not by default).
ensure_tor_include() {
    local torrc
    DID=no
    torrc=$(R "$TORRC")
    if [ -f "$torrc" ] && grep -qxF "$INCLUDE_LINE" "$torrc"; then
        return 0
    fi
    mkdir -p "$(dirname "$torrc")"
    local gap=""
    [ ! -s "$torrc" ] || gap=$'\n'
    printf '%s%s\n%s\n' "$gap" "$INCLUDE_MARK" "$INCLUDE_LINE" >> "$torrc"
    changed "added '$INCLUDE_LINE' to $TORRC"
    DID=yes
}

# Checks tor's whole configuration; on failure shows tor's complaint and takes the snippet
# out again, so that the next start of tor does not fail on it.
tor_verify() {
    local out
    if out=$(tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f "$TORRC" --verify-config 2>&1); then
        return 0
    fi
    printf '%s\n' "$out" | grep -E '\[(warn|err)\]' >&2 || true
    rm -f "$TORRC_SNIPPET"
    die "tor rejects $TORRC_SNIPPET (it needs tor 0.4.8+ for proof of work: apt-cache policy tor); removed it again"
}

next_steps() {
    cat <<EOF

Next steps (in full: $DOC_DIR/README.md; the keys: Keys/README.md):

 1. Onion addresses (tor made them when it reloaded):
      cat $ONION_PUBLIC/hostname     # the witnesses' address: publish it
      cat $ONION_ADMIN/hostname      # reviewers and operators only (client authorization: Deploy/torrc)
    Back up hs_ed25519_secret_key of both directories: they *are* the addresses.
 2. TLS certificate. Onion-only, self-signed (Tor Browser will warn witnesses about it;
    Deploy/README.md says how to get a CA certificate for a .onion):
      tipgate cert --name \$(cat $ONION_PUBLIC/hostname) --cert $TLS_DIR/cert.pem --key $TLS_DIR/key.pem
    and the admin listener's own (every witness sees the public one: the admin address stays out of it):
      tipgate cert --name \$(cat $ONION_ADMIN/hostname) --cert $TLS_DIR/admin-cert.pem --key $TLS_DIR/admin-key.pem
      chgrp $USER_NAME $TLS_DIR/*.pem && chmod 0640 $TLS_DIR/*.pem
    Or put your own certificate chain at $TLS_DIR/cert.pem and its key at
    $TLS_DIR/key.pem (root:$USER_NAME, mode 0640).
 3. Root key and signed keyring, made on the offline machine (Keys/README.md §3):
      install -m 0640 -g $USER_NAME root.json keyring.json $CONF_DIR/
      runuser -u $USER_NAME -- tipgate keys install --data $DATA_DIR --root-key $CONF_DIR/root.json $CONF_DIR/keyring.json
 4. Start, and check from another machine against the published root fingerprint:
      systemctl start tipgate; systemctl status tipgate
      tipdesk check-server https://ADDRESS.onion --root-fingerprint 'root:…' --socks 127.0.0.1:9050
 5. Courier transport keys, one per reviewer's courier machine:
      runuser -u $USER_NAME -- tipgate reviewers add --data $DATA_DIR courier.public.json
 6. Host: swap off or encrypted, disk encryption, journald retention ($DOC_DIR/README.md).
EOF
}

do_install() {
    local bin_changed=no unit_changed=no tor_changed=no
    if [ ! -f "$BIN_DIR/tipgate" ] || [ ! -x "$BIN_DIR/tipgate" ]; then
        die "no executable $BIN_DIR/tipgate: build with 'swift build -c release --static-swift-stdlib' or pass --bin DIR"
    fi
    if [ ! -d "$BIN_DIR/$RESOURCES" ]; then
        die "no $BIN_DIR/$RESOURCES: the server needs the resource bundle SwiftPM puts next to the binary"
    fi
    for f in tipgate.service torrc tipgate.example.json README.md; do
        [ -f "$DEPLOY_DIR/$f" ] || die "missing $DEPLOY_DIR/$f"
    done
    say "installing from $BIN_DIR${ROOT:+ into the fake root $ROOT}"

    install_packages
    # Before anything is replaced: the new binary must run here (a build without
    # --static-swift-stdlib needs a Swift runtime the host does not have).
    if [ -z "$ROOT" ] && ! "$BIN_DIR/tipgate" --help >/dev/null 2>&1; then
        ldd "$BIN_DIR/tipgate" 2>/dev/null | grep 'not found' >&2 || true
        die "$BIN_DIR/tipgate does not run on this host; build with --static-swift-stdlib (Deploy/README.md)"
    fi
    ensure_user

    ensure_dir "$DATA_DIR" 0700 "$USER_NAME:$USER_NAME"
    ensure_dir "$CONF_DIR" 0750 "root:$USER_NAME"
    ensure_dir "$TLS_DIR" 0750 "root:$USER_NAME"

    ensure_dir "$LIB_DIR" 0755 root:root
    install_file "$BIN_DIR/tipgate" "$LIB_DIR/tipgate" 0755
    [ "$DID" = no ] || bin_changed=yes
    install_tree "$BIN_DIR/$RESOURCES" "$LIB_DIR/$RESOURCES"
    [ "$DID" = no ] || bin_changed=yes
    mkdir -p "$(R /usr/local/bin)"
    if [ "$(readlink "$(R "$BIN_LINK")" 2>/dev/null || true)" != ../lib/tipgate/tipgate ]; then
        ln -sfn ../lib/tipgate/tipgate "$(R "$BIN_LINK")"
        changed "linked $BIN_LINK -> $LIB_DIR/tipgate"
    fi
    ensure_dir "$DOC_DIR" 0755 root:root
    install_file "$DEPLOY_DIR/README.md" "$DOC_DIR/README.md" 0644

    if [ -e "$(R "$CONF_FILE")" ]; then
        ensure_mode "$CONF_FILE" 0640 "root:$USER_NAME"
        cmp -s "$DEPLOY_DIR/tipgate.example.json" "$(R "$CONF_FILE")" \
            || say "kept your $CONF_FILE (compare with $DEPLOY_DIR/tipgate.example.json)"
    else
        install_file "$DEPLOY_DIR/tipgate.example.json" "$CONF_FILE" 0640 "root:$USER_NAME"
    fi

    install_file "$DEPLOY_DIR/tipgate.service" "$UNIT_FILE" 0644
    [ "$DID" = no ] || unit_changed=yes

    install_file "$DEPLOY_DIR/torrc" "$TORRC_SNIPPET" 0644
    [ "$DID" = no ] || tor_changed=yes
    ensure_tor_include
    [ "$DID" = no ] || tor_changed=yes

    if [ "$unit_changed" = yes ]; then
        act systemctl daemon-reload
    fi
    if [ -n "$ROOT" ] || ! systemctl is-enabled --quiet tipgate.service; then
        act systemctl enable tipgate.service
        [ -n "$ROOT" ] || changed "enabled tipgate.service (start it once the keys are in place)"
    fi
    if [ "$unit_changed" = yes ] || [ "$bin_changed" = yes ]; then
        if [ -n "$ROOT" ]; then
            act systemctl try-restart tipgate.service
        elif systemctl is-active --quiet tipgate.service; then
            systemctl restart tipgate.service
            say "restarted tipgate.service on the new version"
        fi
    fi
    if [ "$tor_changed" = yes ]; then
        if [ -n "$ROOT" ]; then
            act tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f "$TORRC" --verify-config
            act systemctl enable tor.service
            act systemctl reload-or-restart tor.service
        else
            tor_verify
            systemctl enable --quiet tor.service
            systemctl reload-or-restart tor.service
            say "reloaded tor"
        fi
    fi

    if [ "$CHANGES" -eq 0 ]; then
        say "nothing to do: everything is already installed and up to date"
    else
        say "done: $CHANGES change(s)"
    fi
    [ -z "$ROOT" ] || say "what would run on a real system: $PLAN"
    next_steps
}

remove_path() {
    local target
    target=$(R "$1")
    if [ -e "$target" ] || [ -L "$target" ]; then
        rm -rf "$target"
        changed "removed $1"
    fi
}

do_uninstall() {
    local torrc others
    if [ "$PURGE" = yes ]; then
        echo "--purge-data deletes, beyond recovery:"
        echo "  $DATA_DIR   (sealed tips not yet exported are lost: export them first)"
        echo "  $CONF_DIR      (config, TLS key, root key document)"
        echo "  $ONION_PUBLIC and $ONION_ADMIN (the onion addresses themselves)"
        echo "  the system user $USER_NAME"
        if [ -z "$ROOT" ] && [ -x "$LIB_DIR/tipgate" ] && [ -d "$DATA_DIR" ]; then
            "$LIB_DIR/tipgate" status --data "$DATA_DIR" 2>&1 | sed 's/^/  status: /' || true
        fi
        if [ "$ASSUME_YES" != yes ]; then
            local answer=""
            [ -t 0 ] || die "--purge-data asks for confirmation on a terminal; add --yes to skip it"
            read -r -p "Type 'delete' to go on: " answer
            [ "$answer" = delete ] || die "nothing removed"
        fi
    fi

    if [ -z "$ROOT" ]; then
        if systemctl is-active --quiet tipgate.service; then systemctl stop tipgate.service; changed "stopped tipgate.service"; fi
        if systemctl is-enabled --quiet tipgate.service 2>/dev/null; then systemctl disable --quiet tipgate.service; changed "disabled tipgate.service"; fi
    else
        act systemctl disable --now tipgate.service
    fi
    remove_path "$UNIT_FILE"
    act systemctl daemon-reload
    remove_path "$BIN_LINK"
    remove_path "$LIB_DIR"
    remove_path "$DOC_DIR"

    local tor_changed=no
    if [ -e "$(R "$TORRC_SNIPPET")" ]; then
        remove_path "$TORRC_SNIPPET"
        tor_changed=yes
    fi
    # Take our %include out again, unless other snippets rely on it.
    torrc=$(R "$TORRC")
    others=$(find "$(R "$TORRC_DIR")" -maxdepth 1 -name '*.conf' 2>/dev/null || true)
    if [ -z "$others" ] && [ -f "$torrc" ] && grep -qxF "$INCLUDE_MARK" "$torrc"; then
        # Drop the mark, the include line after it and the empty line install.sh put before it.
        awk -v mark="$INCLUDE_MARK" -v inc="$INCLUDE_LINE" '
            held { held = 0; if ($0 != mark) print "" }
            $0 == "" { held = 1; next }
            $0 == mark { drop = 1; next }
            drop && $0 == inc { drop = 0; next }
            { drop = 0; print }
            END { if (held) print "" }' "$torrc" > "$torrc.tipgate-new"
        chmod --reference="$torrc" "$torrc.tipgate-new"
        mv -f "$torrc.tipgate-new" "$torrc"
        changed "removed the torrc.d include from $TORRC"
        tor_changed=yes
    fi

    if [ "$PURGE" = yes ]; then
        remove_path "$DATA_DIR"
        remove_path "$CONF_DIR"
        remove_path "$ONION_PUBLIC"
        remove_path "$ONION_ADMIN"
        tor_changed=yes
        if [ -n "$ROOT" ]; then
            act userdel "$USER_NAME"
        elif getent passwd "$USER_NAME" >/dev/null; then
            userdel "$USER_NAME"
            changed "deleted system user $USER_NAME"
        fi
    fi
    if [ "$tor_changed" = yes ]; then
        if [ -n "$ROOT" ]; then
            act systemctl reload-or-restart tor.service
        elif systemctl is-active --quiet tor.service; then
            systemctl reload-or-restart tor.service
            say "reloaded tor"
        fi
    fi

    if [ "$CHANGES" -eq 0 ]; then
        say "nothing to remove"
    else
        say "done: $CHANGES change(s)"
    fi
    if [ "$PURGE" = no ]; then
        say "kept $DATA_DIR, $CONF_DIR and the onion keys in /var/lib/tor/ (--purge-data deletes them)"
    fi
}

if [ "$MODE" = install ]; then
    do_install
else
    do_uninstall
fi
