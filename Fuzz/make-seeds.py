#!/usr/bin/env python3
"""Writes the fuzz seed corpus, Tests/Fuzz/corpus/<target>/, from the wire-format vectors
(Tests/Vectors) and from a few generated bundles, acks and form bodies. The seeds are small
and committed; re-running this script rewrites them (deterministically: no randomness).

    python3 Fuzz/make-seeds.py
"""
import base64, hashlib, json, os, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "Tests", "Vectors")
CORPUS = os.path.join(ROOT, "Tests", "Fuzz", "corpus")


def payload(path):
    """A vector file's payload: everything after the first blank line."""
    data = open(path, "rb").read()
    return data.split(b"\n\n", 1)[1] if b"\n\n" in data else data


def vectors(kind):
    d = os.path.join(VECTORS, kind)
    return [(n[:-4], payload(os.path.join(d, n))) for n in sorted(os.listdir(d)) if n.endswith(".txt")]


def js(obj):
    """JSON the way TipCore's StrictJSON writes it: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fuzz_digest(data):
    """Fuzz/Harness.swift's fuzzDigest: FNV-1a 64, four lanes, 32 bytes (BLAKE2b's stand-in)."""
    out = b""
    for lane in range(4):
        h = (0xCBF29CE484222325 + lane) & 0xFFFFFFFFFFFFFFFF
        for b in data:
            h = ((h ^ b) * 0x00000100000001B3) & 0xFFFFFFFFFFFFFFFF
        out += h.to_bytes(8, "big")
    return out


def det(label, n):
    """Deterministic pseudo-random bytes."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def hexid(label, n):
    return det(label, n // 2).hex()


def bundle(n_records, padded=1024):
    instance = hexid("instance", 32)
    lines = [js({"count": n_records, "created": "2026-11-10", "format": "tipgate-bundle", "instance": instance, "v": 1})]
    ids = sorted(hexid(f"tip{i}", 32) for i in range(n_records))
    for i, tid in enumerate(ids):
        sealed = base64.b64encode(det(f"sealed{i}", padded + 48)).decode()
        lines.append(js({"day": "2026-11-0%d" % (i + 1), "id": tid, "key_id": hexid("key", 16), "sealed": sealed}))
    covered = b"".join(l + b"\n" for l in lines)
    trailer = js({"blake2b": fuzz_digest(covered).hex(), "count": n_records, "end": True})
    return covered + trailer + b"\n"


def ack(n_tips):
    tips = [{"blake2b": hexid(f"sum{i}", 64), "id": hexid(f"tip{i}", 32)} for i in range(n_tips)]
    return js({"audit_head": hexid("head", 64), "day": "2026-11-10", "instance": hexid("instance", 32), "tips": tips, "v": 1})


def signed(p):
    return js({"payload": base64.b64encode(p).decode(), "root_public_key": base64.b64encode(det("root", 32)).decode(),
               "signature": base64.b64encode(det("sig", 64)).decode(), "v": 1}) + b"\n"


def unpad(padded):
    p = padded.rstrip(b"\x00")
    return p[:-1] if p.endswith(b"\x80") else p


def main():
    seeds = {t: [] for t in ["submission", "pow", "form", "keyring", "signed", "bundle", "ack", "tipdoc", "forward", "plain"]}

    envelopes = vectors("envelope")
    seeds["submission"] += envelopes
    good = json.loads(envelopes[0][1])
    challenge = bytes(16) + (1_800_000_000).to_bytes(8, "big") + bytes([12]) + det("mac", 24)
    pow_env = dict(good, pow={"challenge": base64.b64encode(challenge).decode(), "nonce": base64.b64encode(b"\x00\x01\x02\x03").decode()})
    seeds["submission"].append(("pow", js(pow_env)))

    seeds["pow"] += [("split", bytes([49]) + challenge + b"nonce123"), ("challenge", challenge),
                     ("long-nonce", bytes([49]) + challenge + det("n", 33)), ("envelope", js(pow_env))]

    seeds["form"] += [
        ("minimal", b"body=hi"),
        ("all-fields", b"body=a+tip%0D%0Asecond+line&lang=ru&where=Tashkent&when=yesterday&kind=forced_labour&contact=x%40y.example"),
        ("cyrillic", b"lang=ru&body=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82&kind=other"),
        ("uz-latn", b"body=salom&lang=uz-Latn&kind=child_at_risk&where="),
        ("controls", b"body=%00%01%1F%22%5C%09&submit=Send&kind=officials_involved"),
        ("escapes", b"body=%E2%82%AC%F0%9F%98%80+%2B&when=%0D%0A%0D&kind=sexual_exploitation"),
    ]

    keyrings = vectors("keyring")
    seeds["keyring"] += keyrings
    seeds["signed"] += keyrings
    for name, data in keyrings[:2] + [k for k in keyrings if "forwarding" in k[0]][:1]:
        try:
            seeds["keyring"].append((name + "-payload", base64.b64decode(json.loads(data)["payload"])))
        except (ValueError, KeyError):
            pass

    for n in (0, 1, 3):
        seeds["bundle"].append((f"bundle-{n}", bundle(n)))
    seeds["bundle"].append(("bundle-2048", bundle(1, padded=2048)))

    for n in (0, 1, 3):
        seeds["ack"].append((f"ack-{n}", ack(n)))
    seeds["ack"].append(("ack-signed", signed(ack(2))))
    seeds["signed"].append(("ack-signed", signed(ack(2))))

    for name, data in vectors("plaintext"):
        try:
            seeds["tipdoc"].append((name, unpad(base64.b64decode(data.strip(), validate=True))))
        except ValueError:
            pass
    seeds["tipdoc"].append(("fields-lang", js({"body": "line one\nline two", "fields": {"kind": "other", "where": "Тошкент"}, "lang": "uz-Latn", "v": 1})))

    # The fast readers against StrictJSON: envelopes and documents in our sealers' forms (the
    # page's JSON.stringify keeps its own member order), with the simple escapes they may hold.
    seeds["plain"] += seeds["submission"] + seeds["tipdoc"]
    seeds["plain"].append(("page-order", b'{"v":1,"body":"\xc3\xa9 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t","fields":{"where":"\xd0\x9e\xd1\x88"},"lang":"ru"}'))
    seeds["plain"].append(("unicode-escape", b'{"v":1,"body":"\\u00e9\\ud83d\\ude00"}'))
    seeds["plain"].append(("envelope-order", b'{"sealed":"QUJDRA==","v":1,"key_id":"0123456789abcdef"}'))

    # Forwards (SECURITY.md §11): a forward document, the signed forward around it (the
    # signature is not checked by TipCore, so fixed bytes serve), and outbox parcels.
    fdoc = js({"body": "Рабочих держат под замком. █ забрал паспорта.", "category": "forced_labour", "day": "2026-11-02",
               "fields": {"kind": "labour"}, "lang": "ru", "note": "please act", "org": "0123456789abcdef", "urgency": "high", "v": 1})
    seeds["forward"].append(("document", fdoc))
    seeds["forward"].append(("document-minimal", js({"body": "x", "day": "2026-01-01", "org": "fedcba9876543210", "v": 1})))
    sf = {"document": base64.b64encode(fdoc).decode(), "forward_id": det("fid", 16).hex(), "forwarding_key": base64.b64encode(det("fk", 32)).decode(),
          "keyring": base64.b64encode(signed(b'{"v":1}')).decode(), "recipient": det("rcpt", 32).hex(),
          "signature": base64.b64encode(det("sig", 64)).decode(), "type": "tipgate-forward", "v": 1}
    seeds["forward"].append(("signed-forward", js(sf)))
    seeds["forward"].append(("tip", js({"body": "a tip", "v": 1})))
    sealed = base64.b64encode(det("sealed", 1024 + 48)).decode()
    parcel = {"day": "2026-11-29", "id": det("pid", 16).hex(), "key_id": "0123456789abcdef", "sealed": sealed, "type": "tipgate-parcel", "v": 1}
    seeds["forward"].append(("parcel-file", js(parcel) + b"\n"))
    seeds["forward"].append(("parcel-tipgate", js(dict(parcel, deliver_to="https://partner.example")) + b"\n"))

    for target, items in seeds.items():
        d = os.path.join(CORPUS, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in items:
            open(os.path.join(d, name), "wb").write(data)
        print(f"{target}: {len(items)} seeds")


if __name__ == "__main__":
    main()
