#!/usr/bin/python3
"""Writes the wire-format test vectors (SECURITY.md §3) with PyNaCl, an implementation
independent of TipCrypto. Run with Debian's /usr/bin/python3 (python3-nacl).

Each vector tests one rule and says what it expects in its header (age's testkit style):

    expect: success | <stable error code>
    status: <HTTP status>            (envelope vectors only)
    comment: what the vector breaks

then a blank line and the payload: the request body (envelope), or the base64 of the padded
plaintext (plaintext). Sealing is randomised, so the files are generated once and committed;
re-running this script makes new, equally valid files.
"""
import base64, hashlib, json, os, sys
from nacl.public import PrivateKey, PublicKey, SealedBox

HERE = os.path.dirname(os.path.abspath(__file__))
KEYFILE = os.path.join(HERE, "test-only-key.json")

def key_id(pk): return hashlib.blake2b(pk, digest_size=32).digest()[:8].hex()

def load_key():
    if not os.path.exists(KEYFILE):
        sk = PrivateKey.generate()
        json.dump({"WARNING": "TEST ONLY: this secret key is public; never seal a real tip to it",
                   "public_key": base64.b64encode(bytes(sk.public_key)).decode(),
                   "secret_key": base64.b64encode(bytes(sk)).decode()}, open(KEYFILE, "w"), indent=1)
    d = json.load(open(KEYFILE))
    return base64.b64decode(d["public_key"]), base64.b64decode(d["secret_key"])

def pad(doc, size=None):
    if size is None:
        size = 1024
        while size < len(doc) + 1: size *= 2
    return doc + b"\x80" + b"\x00" * (size - len(doc) - 1)

def seal(pk, data): return SealedBox(PublicKey(pk)).encrypt(data)

def write(kind, name, expect, comment, payload, status=None):
    head = f"expect: {expect}\n"
    if status is not None: head += f"status: {status}\n"
    head += f"comment: {comment}\n\n"
    with open(os.path.join(HERE, kind, name + ".txt"), "wb") as f:
        f.write(head.encode() + payload)

def env(kid, sealed_b64, v=1):
    return json.dumps({"v": v, "key_id": kid, "sealed": sealed_b64}).encode()

def main():
    pk, _ = load_key()
    kid = key_id(pk)
    other = key_id(bytes(PrivateKey.generate().public_key))
    doc = json.dumps({"v": 1, "body": "vector tip", "lang": "en"}).encode()
    s1024 = base64.b64encode(seal(pk, pad(doc))).decode()
    s2048 = base64.b64encode(seal(pk, pad(json.dumps({"v": 1, "body": "x" * 1500}).encode()))).decode()
    E = "envelope"
    write(E, "01-good-1024", "success", "a 1024-byte padded tip", env(kid, s1024), 201)
    write(E, "02-good-2048", "success", "a 2048-byte padded tip", env(kid, s2048), 201)
    write(E, "03-unsupported-version", "unsupported_version", "v is 2", env(kid, s1024, v=2), 400)
    write(E, "04-v-string", "invalid_json", "v is a string", json.dumps({"v": "1", "key_id": kid, "sealed": s1024}).encode(), 400)
    write(E, "05-v-bool", "invalid_json", "v is true", json.dumps({"v": True, "key_id": kid, "sealed": s1024}).encode(), 400)
    write(E, "06-missing-sealed", "invalid_json", "no sealed member", json.dumps({"v": 1, "key_id": kid}).encode(), 400)
    write(E, "07-unknown-member", "invalid_json", "an extra member (formats are closed)", json.dumps({"v": 1, "key_id": kid, "sealed": s1024, "ip": "x"}).encode(), 400)
    write(E, "08-array", "invalid_json", "an array, not an object", b"[1]", 400)
    write(E, "09-not-json", "invalid_json", "not JSON at all", b"hello", 400)
    write(E, "10-key-id-number", "invalid_json", "key_id is a number", json.dumps({"v": 1, "key_id": 7, "sealed": s1024}).encode(), 400)
    write(E, "11-key-id-uppercase", "invalid_key_id", "key_id in uppercase hex", env(kid.upper(), s1024), 400)
    write(E, "12-key-id-short", "invalid_key_id", "key_id of 15 digits", env(kid[:15], s1024), 400)
    write(E, "13-unknown-key", "unknown_key", "a well-formed key_id the server does not hold", env(other, s1024), 422)
    write(E, "14-base64-bad-chars", "invalid_base64", "a character outside the alphabet", env(kid, "*" + s1024[1:]), 400)
    write(E, "15-base64-url-alphabet", "invalid_base64", "the URL-safe alphabet", env(kid, s1024.replace("+", "-").replace("/", "_") if ("+" in s1024 or "/" in s1024) else "-" + s1024[1:]), 400)
    write(E, "16-base64-no-padding", "invalid_base64", "padding stripped", env(kid, s1024.rstrip("=") if s1024.endswith("=") else s1024[:-1]), 400)
    raw = base64.b64decode(s1024)
    # s1024 encodes 1072 bytes, so it ends in "==" and its last symbol's low 4 bits must be 0.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert s1024.endswith("==")
    body = s1024[:-2]
    noncanon = body[:-1] + alphabet[alphabet.index(body[-1]) | 1] + "=="
    write(E, "17-base64-noncanonical", "invalid_base64", "stray bits in the last symbol", env(kid, noncanon), 400)
    write(E, "18-base64-whitespace", "invalid_base64", "a line break inside", env(kid, s1024[:40] + "\n" + s1024[40:]), 400)
    write(E, "19-truncated", "invalid_sealed_length", "the last byte cut off", env(kid, base64.b64encode(raw[:-1]).decode()), 422)
    write(E, "20-unpadded", "invalid_sealed_length", "1000 bytes, not a size class", env(kid, base64.b64encode(seal(pk, b"a" * 1000)).decode()), 422)
    write(E, "21-below-minimum", "invalid_sealed_length", "padded to 512", env(kid, base64.b64encode(seal(pk, pad(b"{}", 512))).decode()), 422)
    write(E, "22-not-power-of-two", "invalid_sealed_length", "padded to 3072", env(kid, base64.b64encode(seal(pk, pad(b"{}", 3072))).decode()), 422)
    write_duplicates(kid, s1024)

    P = "plaintext"
    def pt(name, expect, comment, padded, body=None):
        head = ""
        if body is not None:
            head = "body: " + json.dumps(body) + "\n"
        write(P, name, expect, comment + ("\n" + head.rstrip("\n") if head else ""), base64.b64encode(padded) + b"\n")
    j = lambda o: json.dumps(o, ensure_ascii=False).encode()
    pt("01-minimal", "success", "only v and body", pad(j({"v": 1, "body": "hi"})), "hi")
    ru = "В квартире держат девушек. Паспорта забрали."
    pt("02-russian-fields", "success", "Cyrillic body, fields and lang", pad(j({"v": 1, "body": ru, "fields": {"where": "ул. Гагарина 12", "when": "вчера"}, "lang": "ru"})), ru)
    uz = "O‘zbekistonlik ayollar pasportlarisiz ishlashmoqda."
    pt("03-uzbek-latin", "success", "Uzbek Latin with U+2018", pad(j({"v": 1, "body": uz, "lang": "uz-Latn"})), uz)
    pt("04-member-order", "success", "members in another order, as a browser may write", pad(j({"lang": "tg", "body": "Салом", "v": 1})), "Салом")
    pt("05-newlines", "success", "a body with newlines and tabs", pad(j({"v": 1, "body": "line 1\nline 2\tend"})), "line 1\nline 2\tend")
    d = j({"v": 1, "body": "x"})
    pt("06-no-marker", "bad_padding", "all zero padding, no 0x80", d + b"\x00" * (1024 - len(d)))
    pt("07-junk-after-marker", "bad_padding", "a non-zero byte after the marker", d + b"\x80" + b"\x00" * 10 + b"\x01" + b"\x00" * (1024 - len(d) - 12))
    pt("08-not-smallest-class", "bad_padding", "a 20-byte document padded to 2048", pad(d, 2048))
    pt("09-not-power-of-two", "bad_padding", "padded to 1500", pad(d, 1500))
    pt("10-not-json", "invalid_json", "the document is not JSON", pad(b"just text"))
    pt("11-version-2", "unsupported_version", "v is 2", pad(j({"v": 2, "body": "x"})))
    pt("12-empty-body", "empty_body", "body is empty", pad(j({"v": 1, "body": ""})))
    pt("13-unknown-member", "invalid_json", "an extra member", pad(j({"v": 1, "body": "x", "ip": "1.2.3.4"})))
    pt("14-body-number", "invalid_json", "body is a number", pad(j({"v": 1, "body": 5})))
    pt("15-too-many-fields", "too_many_fields", "33 fields", pad(j({"v": 1, "body": "x", "fields": {f"k{i}": "v" for i in range(33)}})))
    pt("16-long-field-name", "bad_field", "a 65-byte field name", pad(j({"v": 1, "body": "x", "fields": {"k" * 65: "v"}})))
    pt("17-long-field-value", "bad_field", "a 4097-byte field value", pad(j({"v": 1, "body": "x", "fields": {"k": "v" * 4097}})))
    pt("18-bad-lang", "bad_lang", "lang with a space", pad(j({"v": 1, "body": "x", "lang": "ru ru"})))
    pt("19-invalid-utf8", "invalid_json", "invalid UTF-8 inside the body string", pad(b'{"v":1,"body":"\xff\xfe"}'))
    pt("20-field-not-string", "invalid_json", "a field value that is a number", pad(j({"v": 1, "body": "x", "fields": {"k": 1}})))
    pt("21-missing-v", "invalid_json", "no v member", pad(j({"body": "x"})))
    pt("22-duplicate-body", "invalid_json", "body named twice (JSONDecoder would keep one silently)", pad(b'{"v":1,"body":"x","body":"y"}'))
    pt("23-duplicate-field", "invalid_json", "a field named twice", pad(b'{"v":1,"body":"x","fields":{"k":"a","k":"b"}}'))
    pt("24-duplicate-field-nfd", "invalid_json", "field names equal as strings: U+00E9 and e U+0301",
       pad('{"v":1,"body":"x","fields":{"\u00e9":"a","e\u0301":"b"}}'.encode()))

def write_duplicates(kid, s1024):
    """Envelopes naming a member twice; JSON.dumps cannot write them (SECURITY.md §1)."""
    E = "envelope"
    write(E, "23-duplicate-v", "invalid_json", "v named twice, 2 then 1",
          ('{"v": 2, "key_id": "%s", "sealed": "%s", "v": 1}' % (kid, s1024)).encode(), 400)
    write(E, "24-duplicate-escaped", "invalid_json", "key_id named twice, once as k\\u0065y_id",
          ('{"v": 1, "key_id": "%s", "sealed": "%s", "k\\u0065y_id": "%s"}' % (kid, s1024, kid)).encode(), 400)

if __name__ == "__main__":
    main()
