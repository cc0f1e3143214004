#!/usr/bin/env bash
# `make test-tls`: testssl.sh against a live tipgate on 127.0.0.1 (SECURITY.md §4.4).
# Fails on SSLv2/3, TLS 1.0/1.1, any CBC, static-RSA or other weak cipher, or a missing HSTS.
# Bounded: testssl.sh is given a time limit, and the server is stopped on every exit path.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TIPGATE_BIN_DIR:-.build/debug}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
python3 -c 'import base64,hashlib,json,os
pk=os.urandom(32); h=hashlib.blake2b(pk,digest_size=32).hexdigest()
print(json.dumps({"v":1,"key_id":h[:16],"public_key":base64.b64encode(pk).decode(),"fingerprint":" ".join(h[i:i+4] for i in range(0,64,4))}))' > "$work/pub.json"
"$bin/tipgate" cert --cert "$work/cert.pem" --key "$work/key.pem" --name localhost --name 127.0.0.1 2>/dev/null
"$bin/tipgate" serve --data "$work/data" --listen 127.0.0.1:0 --admin-listen off --tls-cert "$work/cert.pem" \
  --tls-key "$work/key.pem" --public-key "$work/pub.json" > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on https:\/\///p' "$work/out")
[ -n "$url" ] || { echo "tipgate did not start"; cat "$work/err"; exit 1; }
timeout 600 testssl --quiet --color 0 --warnings off --jsonfile "$work/tls.json" -p -s -E -h "$url" > "$work/report.txt" 2>&1 || true
python3 - "$work/tls.json" <<'PY'
import json, sys
findings = {f["id"]: f for f in json.load(open(sys.argv[1]))}
checks = []
def offered(fid, want):
    f = findings.get(fid, {})
    got = f.get("finding", "missing")
    ok = got.startswith(want)
    checks.append((ok, f"{fid}: {got}"))
for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    offered(proto, "not offered")
offered("TLS1_2", "offered")
offered("TLS1_3", "offered")
for fid in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"):
    offered(fid, "not offered")
offered("HSTS_time", "")
tls12 = [f["finding"] for f in findings.values() if f["id"].startswith("cipher-tls1_2")]
bad = [x for x in tls12 if "CBC" in x or "-SHA " in x + " " or not ("ECDHE" in x)]
checks.append((len(tls12) > 0, f"TLS 1.2 suites offered: {len(tls12)}"))
checks.append((not bad, f"TLS 1.2 suites with CBC or static RSA: {len(bad)}"))
hsts = findings.get("HSTS_time", {}).get("finding", "")
checks.append(("63072000" in hsts or "730 days" in hsts, f"HSTS: {hsts}"))
for f in sorted(findings.values(), key=lambda f: f["id"]):
    if f["id"].startswith("cipher-tls"):
        print("suite " + " ".join(f["finding"].split()))
failed = 0
for ok, line in checks:
    print(("ok    " if ok else "FAIL  ") + line)
    failed += not ok
print(f"tls: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
