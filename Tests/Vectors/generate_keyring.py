#!/usr/bin/python3
"""Writes signed-keyring vectors (SECURITY.md §2.5) with PyNaCl's Ed25519, independent of
TipCrypto. Each file: a header (`expect:`, `today:`, `comment:`), a blank line, then the
keyring file. Verifiers pin the test-only root in test-only-root.json. Run with
/usr/bin/python3 (python3-nacl)."""
import base64, hashlib, json, os
from nacl.signing import SigningKey

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keyring")
ROOT = os.path.join(HERE, "test-only-root.json")
CONTEXT = b"tipgate-keyring-v1\x00"

def kid(pk): return hashlib.blake2b(pk, digest_size=32).digest()[:8].hex()
def fp(pk):
    h = hashlib.blake2b(pk, digest_size=32).hexdigest()
    return " ".join(h[i:i + 4] for i in range(0, 64, 4))
def b64(b): return base64.b64encode(b).decode()

def root_key():
    if not os.path.exists(ROOT):
        sk = SigningKey.generate()
        pk = bytes(sk.verify_key)
        json.dump({"WARNING": "TEST ONLY: this root's secret is public; never sign a real keyring with it",
                   "seed": b64(bytes(sk)),
                   "document": {"v": 1, "type": "root", "key_id": kid(pk), "public_key": b64(pk), "fingerprint": "root:" + fp(pk)}},
                  open(ROOT, "w"), indent=1)
    return SigningKey(base64.b64decode(json.load(open(ROOT))["seed"]))

def payload(root_pk, keys, serial=3, issued="2026-11-01", expires="2027-01-30", scripts=None, extra=None):
    p = {"v": 1, "serial": serial, "issued": issued, "expires": expires, "root_key_id": kid(root_pk),
         "intake_keys": keys, "scripts": scripts or {"app.js": "sha512-AAAA"}}
    if extra: p.update(extra)
    return json.dumps(p, separators=(",", ":")).encode()

def wrap(sk, p, sig=None, pk=None, extra=None):
    sig = sig if sig is not None else sk.sign(CONTEXT + p).signature
    w = {"v": 1, "payload": b64(p), "root_public_key": b64(pk or bytes(sk.verify_key)), "signature": b64(sig)}
    if extra: w.update(extra)
    return (json.dumps(w, separators=(",", ":")) + "\n").encode()

def write(name, expect, today, comment, body):
    with open(os.path.join(OUT, name + ".txt"), "wb") as f:
        f.write(f"expect: {expect}\ntoday: {today}\ncomment: {comment}\n\n".encode() + body)

def main():
    os.makedirs(OUT, exist_ok=True)
    root = root_key()
    rpk = bytes(root.verify_key)
    other = SigningKey.generate()
    k1 = bytes(SigningKey.generate().verify_key)  # any 32 bytes serve as an X25519 public key here
    k2 = bytes(SigningKey.generate().verify_key)
    e1 = {"key_id": kid(k1), "public_key": b64(k1), "not_before": "2026-11-01", "not_after": "2026-11-20"}
    e2 = {"key_id": kid(k2), "public_key": b64(k2), "not_before": "2026-11-06"}
    good = payload(rpk, [e1, e2])
    write("01-good", "success", "2026-11-10", "two keys in their overlap", wrap(root, good))
    write("02-good-last-day", "success", "2027-01-30", "the day of expires is still valid", wrap(root, good))
    write("03-expired", "keyring_expired", "2027-01-31", "the day after expires", wrap(root, good))
    write("04-other-root", "wrong_root", "2026-11-10", "signed by another root, which it names", wrap(other, payload(bytes(other.verify_key), [e1])))
    write("05-forged-signature", "bad_signature", "2026-11-10", "a signature by another key over the same bytes",
          wrap(root, good, sig=other.sign(CONTEXT + good).signature))
    changed = good.replace(b'"serial":3', b'"serial":9')
    write("06-payload-changed", "bad_signature", "2026-11-10", "payload bytes changed but still valid JSON",
          wrap(root, good, sig=root.sign(CONTEXT + good).signature).replace(b64(good).encode(), b64(changed).encode()))
    write("07-no-context", "bad_signature", "2026-11-10", "signed without the context string", wrap(root, good, sig=root.sign(good).signature))
    full = wrap(root, good)
    write("08-truncated", "bad_keyring", "2026-11-10", "the file cut in half", full[: len(full) // 2])
    write("09-wrapper-unknown-member", "bad_keyring", "2026-11-10", "an extra member in the wrapper", wrap(root, good, extra={"note": "x"}))
    write("10-payload-unknown-member", "bad_keyring", "2026-11-10", "an extra member in the signed payload",
          wrap(root, payload(rpk, [e1, e2], extra={"sender_ip": "203.0.113.1"})))
    bad_id = dict(e2, key_id="0000000000000000")
    write("11-key-id-not-derived", "bad_keyring", "2026-11-10", "an intake key id not derived from its key", wrap(root, payload(rpk, [e1, bad_id])))
    write("12-root-key-id-mismatch", "bad_keyring", "2026-11-10", "root_key_id names another key",
          wrap(root, json.dumps(dict(json.loads(good), root_key_id="0123456789abcdef"), separators=(",", ":")).encode()))
    write("13-no-keys", "bad_keyring", "2026-11-10", "an empty intake_keys", wrap(root, payload(rpk, [])))
    write("14-duplicate-key", "bad_keyring", "2026-11-10", "a key listed twice", wrap(root, payload(rpk, [e2, e2])))
    write("15-not-after-before-not-before", "bad_keyring", "2026-11-10", "a key that ends before it starts",
          wrap(root, payload(rpk, [dict(e1, not_after="2026-10-01")])))
    write("16-issued-after-expires", "bad_keyring", "2026-11-10", "issued after expires",
          wrap(root, payload(rpk, [e1], issued="2027-02-01")))
    write("17-version-2", "unsupported_version", "2026-11-10", "wrapper v 2", wrap(root, good).replace(b'"v":1,"payload"', b'"v":2,"payload"'))
    fk = bytes(SigningKey.generate().verify_key)
    write("19-forwarding-key", "success", "2026-11-10", "a certified forwarding key",
          wrap(root, payload(rpk, [e1, e2], extra={"forwarding_key": {"key_id": kid(fk), "public_key": b64(fk)}})))
    write("20-forwarding-key-id-not-derived", "bad_keyring", "2026-11-10", "a forwarding key id not derived from its key",
          wrap(root, payload(rpk, [e1, e2], extra={"forwarding_key": {"key_id": "0000000000000000", "public_key": b64(fk)}})))
    write("18-serial-zero", "bad_keyring", "2026-11-10", "serial 0", wrap(root, payload(rpk, [e1], serial=0)))

if __name__ == "__main__":
    main()
