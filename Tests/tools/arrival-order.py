#!/usr/bin/env python3
"""How much of the arrival order of one day's tips a reader of the store's file recovers
(SECURITY.md §4.2 and "Honest limits"). Not a test: it measures a known limit, so that a
change meant to hide the order can show what it achieved.

Inserts N tips of one day into a store with tipgate's intake schema and settings (§4.1-4.2:
1024-byte pages, WAL, synchronous=FULL, secure_delete, WITHOUT ROWID keyed by (day, id), random
ids), BATCH tips per transaction, each tip's bytes a marker of its arrival index. It then reads
the file as a seizer would, finds where each tip's bytes lie, and prints the Spearman rank
correlation between arrival order and file position: 0 would mean the file tells nothing, 1
that it tells the order exactly. Session 4 measured 0.90 (batch 1) and 0.91 (batch 32) for
2000 tips: SQLite takes new pages at the end of the file, in the order tips arrive. This script
has no reserve of free pages; tipgate's store does (§4.2), and `ArrivalOrderTests` measures
the store itself.

    python3 Tests/tools/arrival-order.py [N] [BATCH]
"""
import os
import sqlite3
import struct
import sys
import tempfile

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 1
MAGIC = 0x5A5A

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "tipgate.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("page_size = 1024", "journal_mode = WAL", "synchronous = FULL", "secure_delete = ON"):
        db.execute("PRAGMA " + pragma)
    db.execute("""CREATE TABLE tip (id TEXT NOT NULL, key_id TEXT NOT NULL, day TEXT NOT NULL,
        sealed BLOB NOT NULL, exported INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, id)) STRICT, WITHOUT ROWID""")
    db.execute("CREATE INDEX tip_exported ON tip (exported)")
    i = 0
    while i < N:
        db.execute("BEGIN")
        for _ in range(min(BATCH, N - i)):
            marker = struct.pack(">Q", (MAGIC << 48) | i)
            db.execute("INSERT INTO tip (id, key_id, day, sealed) VALUES (?, ?, ?, ?)",
                       (os.urandom(16).hex(), "0123456789abcdef", "2026-01-01", marker * 518))
            i += 1
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = open(path, "rb").read()

# The first page holding each tip's marker: where its bytes begin in the file.
first = {}
for pg in range(len(data) // 1024):
    page = data[pg * 1024:(pg + 1) * 1024]
    at = page.find(struct.pack(">H", MAGIC))
    while at >= 0 and at + 8 <= len(page):
        v = struct.unpack(">Q", page[at:at + 8])[0]
        if v >> 48 == MAGIC and (v & 0xFFFFFFFFFFFF) < N:
            first.setdefault(v & 0xFFFFFFFFFFFF, pg)
            break
        at = page.find(struct.pack(">H", MAGIC), at + 1)

n = len(first)
by_position = {t: r for r, t in enumerate(sorted(first, key=first.get))}
by_arrival = {t: r for r, t in enumerate(sorted(first))}
d2 = sum((by_position[t] - by_arrival[t]) ** 2 for t in first)
rho = 1 - 6 * d2 / (n * (n * n - 1)) if n > 1 else 0.0
print(f"{n} of {N} tips found, {BATCH} a transaction: "
      f"Spearman correlation of arrival order and file position = {rho:.2f}")
