#!/usr/bin/python3
"""Writes forward vectors (SECURITY.md §11.3, §11.5) with PyNaCl, independent of TipCrypto:
Ed25519 signatures, the sealed box and ISO 7816-4 padding are PyNaCl's and this script's.
Each file: a header (`expect:`, `arrived:`, optionally `newest:`, `comment:`), a blank line,
then a submission envelope (§3.4) sealed to the test-only intake key (test-only-key.json).
`expect` is a verification status (verified, wrong_recipient, bad_signature, not_certified,
stale_keyring, unknown_org, replaced_key, conflicting_keyring) with the test-only root (test-only-root.json) as the
one known organization, or an opening error code. `arrived` is the day the tip arrived;
`newest` the newest keyring of that root the recipient has seen (§11.5 steps 6-7).
Run with /usr/bin/python3 (python3-nacl)."""
import base64, hashlib, json, os
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "forward")
CONTEXT = b"tipgate-forward-v1\x00"
KEYRING_CONTEXT = b"tipgate-keyring-v1\x00"


def h(b): return hashlib.blake2b(b, digest_size=32).digest()
def kid(pk): return h(pk)[:8].hex()
def b64(b): return base64.b64encode(b).decode()
def js(o): return json.dumps(o, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
def seeded(label): return SigningKey(hashlib.sha256(label.encode()).digest())


def pad(m):
    size = 1024
    while size < len(m) + 1:
        size *= 2
    return m + b"\x80" + b"\x00" * (size - len(m) - 1)


def keyring(root, forwarding_pk, break_signature=False, root_key_id=None, forwarding_id=None):
    rpk = bytes(root.verify_key)
    p = {"v": 1, "serial": 4, "issued": "2026-11-01", "expires": "2027-01-30", "root_key_id": root_key_id or kid(rpk),
         "intake_keys": [{"key_id": kid(INTAKE), "public_key": b64(INTAKE), "not_before": "2026-11-01"}], "scripts": {}}
    if forwarding_pk is not None:
        p["forwarding_key"] = {"key_id": forwarding_id or kid(forwarding_pk), "public_key": b64(forwarding_pk)}
    payload = js(p)
    sig = bytearray(root.sign(KEYRING_CONTEXT + payload).signature)
    if break_signature:
        sig[5] ^= 1
    return js({"v": 1, "payload": b64(payload), "root_public_key": b64(rpk), "signature": b64(bytes(sig))}) + b"\n"


def document(org_root, body="Workers at the brick factory are locked in at night. \u2588 took the passports."):
    return js({"v": 1, "org": kid(bytes(org_root.verify_key)), "day": "2026-11-02", "body": body,
               "fields": {"kind": "labour"}, "lang": "en", "note": "please act", "category": "forced_labour", "urgency": "high"})


def forward(doc, ring, signer, recipient=None, context=CONTEXT, tamper=None, extra=None):
    recipient = recipient if recipient is not None else h(INTAKE)
    fid = hashlib.sha256(b"forward id").digest()[:16]
    sig = signer.sign(context + recipient + fid + doc).signature
    if tamper:
        doc = tamper(doc)
    o = {"v": 1, "type": "tipgate-forward", "recipient": recipient.hex(), "forward_id": fid.hex(), "document": b64(doc),
         "keyring": b64(ring), "forwarding_key": b64(bytes(signer.verify_key)), "signature": b64(sig)}
    if extra:
        o.update(extra)
    return js(o)


def seal(plain):
    sealed = SealedBox(PublicKey(INTAKE)).encrypt(pad(plain))
    return js({"v": 1, "key_id": kid(INTAKE), "sealed": b64(sealed)})


def write(name, expect, comment, plain, arrived="2026-11-10", newest=None):
    """newest: (serial, forwarding public key or None[, "conflicting"]), the newest keyring of
    the sender's root the recipient has seen (SECURITY.md §11.5 steps 6-7), as the header
    `newest: SERIAL KEY [conflicting]` (KEY in base64, or `none`)."""
    seen = "" if newest is None else f"newest: {newest[0]} {b64(newest[1]) if newest[1] else 'none'}{''.join(' ' + x for x in newest[2:])}\n"
    with open(os.path.join(OUT, name + ".txt"), "wb") as f:
        f.write(f"expect: {expect}\narrived: {arrived}\n{seen}comment: {comment}\n\n".encode() + seal(plain) + b"\n")


def newer_keyring_vectors(doc, ring, fk):
    """§11.5 step 6: the forward carries keyring serial 4; the recipient has seen another."""
    other = bytes(seeded("replacement forwarding key").verify_key)
    write("18-replaced-key", "replaced_key", "signed under keyring 4 with a key that keyring 5, seen since, no longer certifies",
          forward(doc, ring, fk), newest=(5, other))
    write("19-newer-keyring-same-key", "verified", "keyring 5, seen since, certifies the same forwarding key",
          forward(doc, ring, fk), newest=(5, bytes(fk.verify_key)))
    write("20-newer-keyring-no-key", "replaced_key", "keyring 5, seen since, certifies no forwarding key",
          forward(doc, ring, fk), newest=(5, None))
    write("21-same-serial-other-key", "conflicting_keyring",
          "the root also signed a keyring 4 certifying another key: a serial is never reused (step 7)",
          forward(doc, ring, fk), newest=(4, other))
    write("22-same-serial-conflicting", "conflicting_keyring",
          "keyring 4 as seen certifies this key, but the recipient has seen another keyring 4 (step 7)",
          forward(doc, ring, fk), newest=(4, bytes(fk.verify_key), "conflicting"))


INTAKE = base64.b64decode(json.load(open(os.path.join(HERE, "test-only-key.json")))["public_key"])


def main():
    os.makedirs(OUT, exist_ok=True)
    root = SigningKey(base64.b64decode(json.load(open(os.path.join(HERE, "test-only-root.json")))["seed"]))
    fk = seeded("forwarding key")
    other_root, rogue = seeded("another root"), seeded("rogue key")
    ring = keyring(root, bytes(fk.verify_key))
    doc = document(root)
    write("01-verified", "verified", "signed by the forwarding key the known root certifies", forward(doc, ring, fk))
    write("02-unknown-org", "unknown_org", "a valid forward from a root this vault does not know",
          forward(document(other_root), keyring(other_root, bytes(fk.verify_key)), fk))
    write("03-document-altered", "bad_signature", "the document changed after signing",
          forward(doc, ring, fk, tamper=lambda d: d.replace(b"brick", b"glass")))
    write("04-no-context", "bad_signature", "signed without the context string", forward(doc, ring, fk, context=b""))
    write("05-keyring-context", "bad_signature", "signed with the keyring's context", forward(doc, ring, fk, context=KEYRING_CONTEXT))
    write("06-wrong-recipient", "wrong_recipient", "addressed to another key, then sealed to this one",
          forward(doc, ring, fk, recipient=h(bytes(seeded("another intake").verify_key))))
    write("07-uncertified-signer", "not_certified", "signed by a key the keyring does not certify", forward(doc, ring, rogue))
    write("08-no-forwarding-key", "not_certified", "the keyring certifies no forwarding key", forward(doc, keyring(root, None), fk))
    write("09-keyring-signature-broken", "not_certified", "the keyring's root signature does not verify",
          forward(doc, keyring(root, bytes(fk.verify_key), break_signature=True), fk))
    write("10-org-mismatch", "not_certified", "another root certifies the key, the document names the known root",
          forward(doc, keyring(other_root, bytes(rogue.verify_key)), rogue))
    write("11-unknown-member", "bad_forward", "an extra member in the signed forward", forward(doc, ring, fk, extra={"sender": "x"}))
    write("12-empty-body", "bad_forward", "a correctly signed document with an empty body", forward(document(root, body=""), ring, fk))
    write("14-root-key-id-mismatch", "not_certified", "the keyring's root_key_id names another key",
          forward(doc, keyring(root, bytes(fk.verify_key), root_key_id="0123456789abcdef"), fk))
    write("15-forwarding-key-id-not-derived", "not_certified", "the keyring's forwarding key id is not derived from its key",
          forward(doc, keyring(root, bytes(fk.verify_key), forwarding_id="0000000000000000"), fk))
    write("16-stale-keyring", "stale_keyring", "arrived 31 days after the keyring it carries expired", forward(doc, ring, fk), arrived="2027-03-02")
    write("17-last-day-of-grace", "verified", "arrived 30 days after the keyring it carries expired", forward(doc, ring, fk), arrived="2027-03-01")
    write("13-version-2", "unsupported_version", "signed forward v 2", forward(doc, ring, fk, extra={"v": 2}))
    newer_keyring_vectors(doc, ring, fk)


if __name__ == "__main__":
    main()
