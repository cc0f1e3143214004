#!/usr/bin/python3
"""Writes N distinct, valid POST /api/v1/tips bodies, one per line, for the intake benchmark.

    make-bodies.py PUBLIC_KEY_JSON N OUT [PADDED]

Each line is a v1 submission (SECURITY.md §3.4) of a tip document (§3.2) padded to PADDED
bytes (§3.3; default 4096, so the sealed box is 4144 bytes) and sealed to the key with a fresh
ephemeral key, exactly as seal_tip.py does: the server cannot tell these from real tips, and
no two lines share ciphertext. Needs Debian's python3-nacl; single-threaded, about 20k a second.
"""
import base64
import hashlib
import json
import random
import sys

from nacl.public import PublicKey, SealedBox

WORDS = ("brick factory barrack passport owe money trip captain friday parlour квартира паспорт "
         "хозяин стройка мигранты зарплата ферма гроші qurilish pasport qarzdor фабрика ҳужжат "
         "курулуш акча сохтмон шиноснома market bus depot night рынок вокзал bozor базар").split()


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: make-bodies.py PUBLIC_KEY_JSON N OUT [PADDED]")
    with open(sys.argv[1], "rb") as f:
        doc = json.loads(f.read())
    pk = base64.b64decode(doc["public_key"])
    # Refuse a document whose key_id does not derive from its key (§2.1), as a sealer must.
    if hashlib.blake2b(pk, digest_size=32).hexdigest()[:16] != doc["key_id"]:
        sys.exit("make-bodies: key_id does not derive from public_key")
    n, padded_size = int(sys.argv[2]), int(sys.argv[4]) if len(sys.argv) == 5 else 4096
    box = SealedBox(PublicKey(pk))
    rng = random.Random(9)  # the same texts every run; the ciphertexts differ anyway
    with open(sys.argv[3], "w") as out:
        for i in range(n):
            # Fill to between half and all of the class, so every tip is in class PADDED.
            target = rng.randint(padded_size // 2 + 16, padded_size - 64)
            words = [f"tip {i}:"]
            length = 0
            while True:
                w = rng.choice(WORDS)
                if length + len(w.encode()) + 1 + 24 > target:
                    break
                words.append(w)
                length += len(w.encode()) + 1
            tip = json.dumps({"v": 1, "body": " ".join(words), "lang": "ru"}, ensure_ascii=False).encode()
            assert padded_size // 2 < len(tip) + 1 <= padded_size, len(tip)
            padded = tip + b"\x80" + b"\x00" * (padded_size - len(tip) - 1)
            sealed = box.encrypt(padded)
            out.write(json.dumps({"v": 1, "key_id": doc["key_id"], "sealed": base64.b64encode(sealed).decode()},
                                 separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
