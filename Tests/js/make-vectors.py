#!/usr/bin/python3
"""Writes Tests/js/blake2b-vectors.json: BLAKE2b vectors for Tests/js/blake2b.test.js.

The outputs come from PyNaCl's nacl.hash.blake2b, which is libsodium's crypto_generichash
(the BLAKE2b of SECURITY.md §1), so the hand-written static/blake2b.js is checked against the
same code tipdesk and the Swift tests use. Inputs are deterministic: rerunning this script
gives the same file. Run with /usr/bin/python3 (Debian's python3-nacl):

    /usr/bin/python3 Tests/js/make-vectors.py > Tests/js/blake2b-vectors.json
"""
import base64
import hashlib
import json
import sys

import nacl.hash
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey


def pattern(n):
    """n deterministic bytes covering every byte value."""
    return bytes((i * 131 + 7) % 256 for i in range(n))


def blake2b(data, outlen):
    return nacl.hash.blake2b(data, digest_size=outlen, encoder=RawEncoder)


def main():
    vectors = []

    def add(name, data, outlen):
        vectors.append({"name": name, "outlen": outlen, "input": data.hex(), "output": blake2b(data, outlen).hex()})

    # RFC 7693 Appendix A: BLAKE2b-512("abc").
    add("RFC 7693 Appendix A: BLAKE2b-512 of \"abc\"", b"abc", 64)

    # outlen 24: the sealed-box nonce (SECURITY.md §3.4). Lengths around the 128-byte block.
    for n in (0, 1, 3, 64, 127, 128, 129, 255, 256, 1000):
        add(f"BLAKE2b-192, {n} bytes", pattern(n), 24)

    # An epk ‖ pk input as crypto_box_seal hashes it: two X25519 public keys from fixed seeds.
    epk = PrivateKey(hashlib.sha256(b"tipgate vectors: ephemeral").digest()).public_key.encode()
    pk = PrivateKey(hashlib.sha256(b"tipgate vectors: recipient").digest()).public_key.encode()
    add("BLAKE2b-192, sealed-box nonce of epk || pk", epk + pk, 24)

    # outlen 32: key id and fingerprint (SECURITY.md §2.1).
    with open(sys.argv[1] if len(sys.argv) > 1 else "Tests/Vectors/test-only-key.json", "rb") as f:
        test_pk = base64.b64decode(json.load(f)["public_key"], validate=True)
    add("BLAKE2b-256, Tests/Vectors/test-only-key.json public key", test_pk, 32)
    for n in (0, 32, 128, 300):
        add(f"BLAKE2b-256, {n} bytes", pattern(n), 32)

    # outlen 8 and a few others: the output length is in the parameter block.
    for n in (0, 32, 200):
        add(f"BLAKE2b-64, {n} bytes", pattern(n), 8)
    add("BLAKE2b-8, 3 bytes", pattern(3), 1)
    add("BLAKE2b-512, 129 bytes", pattern(129), 64)
    add("BLAKE2b-512, 0 bytes", b"", 64)

    out = {
        "generator": "Tests/js/make-vectors.py: PyNaCl nacl.hash.blake2b (libsodium crypto_generichash), unkeyed",
        "vectors": vectors,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
