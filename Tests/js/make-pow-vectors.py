#!/usr/bin/python3
"""Writes Tests/js/pow-vectors.json: proof-of-work vectors (SECURITY.md §4.6) for
Tests/js/pow.test.js.

Each vector is solved here the way tipdesk's Swift solver (Sources/TipCrypto/
ProofOfWorkSolver.swift) solves: the nonce is a big-endian counter from 0 and the first
one whose hash

    SHA-512("tipgate-pow-v1" ‖ challenge (49 bytes) ‖ SHA-512(sealed) ‖ nonce)

has at least `difficulty` leading zero bits (the difficulty is byte 24 of the challenge) is
taken. SHA-512 is Python's hashlib, independent of tweetnacl. The challenges are shaped like
the server's (random 16 ‖ expires 8 ‖ difficulty 1 ‖ MAC 24) but their MAC is filler: the MAC
is the server's business, not the client's. Inputs are deterministic, so rerunning this
script gives the same file. For each vector the script also checks that the single-byte
changes pow.test.js makes do not solve it. Run with Debian's Python:

    /usr/bin/python3 Tests/js/make-pow-vectors.py > Tests/js/pow-vectors.json
"""
import hashlib
import json
import sys

CONTEXT = b"tipgate-pow-v1"


def pattern(n, seed):
    """n deterministic bytes covering every byte value."""
    return bytes((i * 131 + seed * 29 + 7) % 256 for i in range(n))


def challenge(seed, expires, difficulty):
    return pattern(16, seed) + expires.to_bytes(8, "big") + bytes([difficulty]) + pattern(24, seed + 100)


def leading_zero_bits(h):
    n = 0
    for b in h:
        if b == 0:
            n += 8
            continue
        return n + 8 - b.bit_length()
    return n


def pow_hash(c, sealed, nonce):
    return hashlib.sha512(CONTEXT + c + hashlib.sha512(sealed).digest() + nonce).digest()


def meets(c, sealed, nonce):
    return leading_zero_bits(pow_hash(c, sealed, nonce)) >= c[24]


def solve(c, sealed, width=8):
    """The Swift solver's search: counter 0, 1, 2, … as `width` big-endian bytes."""
    prefix = CONTEXT + c + hashlib.sha512(sealed).digest()
    n = 0
    while True:
        nonce = n.to_bytes(width, "big")
        if leading_zero_bits(hashlib.sha512(prefix + nonce).digest()) >= c[24]:
            return nonce
        n += 1


def flipped(b, i):
    out = bytearray(b)
    out[i] ^= 0x01
    return bytes(out)


def main():
    vectors = []
    # (name, seed, difficulty, sealed length, nonce width). 1072 and 2096 bytes are sealed
    # 1024- and 2048-byte blocks (§3.4); 135-byte preimages put the nonce across the first
    # SHA-512 block boundary (127 + 8 bytes).
    cases = [
        ("difficulty 1", 1, 1, 1072, 8),
        ("difficulty 8", 2, 8, 1072, 8),
        ("difficulty 12", 3, 12, 1072, 8),
        ("difficulty 13, a 2048-byte block", 4, 13, 2096, 8),
        ("difficulty 16", 5, 16, 1072, 8),
        ("difficulty 10, a 3-byte nonce (the server takes 1 to 32)", 6, 10, 1072, 3),
        ("difficulty 10, a 32-byte nonce", 7, 10, 1072, 32),
    ]
    for name, seed, d, size, width in cases:
        c = challenge(seed, 1_900_000_000 + seed, d)
        sealed = pattern(size, seed + 200)
        nonce = solve(c, sealed, width)
        h = pow_hash(c, sealed, nonce)
        assert leading_zero_bits(h) >= d
        if width == 8 and int.from_bytes(nonce, "big") > 0:  # it is the first: the one before fails
            assert not meets(c, sealed, (int.from_bytes(nonce, "big") - 1).to_bytes(8, "big"))
        # The changes pow.test.js makes must each break the solution.
        if d >= 8:
            for what, (cc, ss, nn) in {
                "nonce": (c, sealed, flipped(nonce, len(nonce) - 1)),
                "sealed": (c, flipped(sealed, 0), nonce),
                "challenge": (flipped(c, 0), sealed, nonce),
                "mac": (flipped(c, 48), sealed, nonce),
            }.items():
                assert not meets(cc, ss, nn), f"{name}: a changed {what} still solves it"
        vectors.append({
            "name": name,
            "difficulty": d,
            "challenge": c.hex(),
            "sealed": sealed.hex(),
            "nonce": nonce.hex(),
            "hash": h.hex(),
            "leading_zero_bits": leading_zero_bits(h),
        })
    json.dump({"context": CONTEXT.decode(), "vectors": vectors}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
