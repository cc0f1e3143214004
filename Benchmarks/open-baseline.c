/* The import baseline: the least work an import of a bundle can do, in C, on one thread.
 *
 *   open-baseline BUNDLE SECRET_KEY_FILE [--floor | --floor-store DB]
 *
 * Reads the bundle (SECURITY.md §5) into memory, then times a loop over its records:
 * base64-decode `sealed` and crypto_box_seal_open it with the 32-byte raw X25519 secret key in
 * SECRET_KEY_FILE (written by tipdesk-bench --baseline-key for its throwaway benchmark vault).
 * Prints "RESULT tips=N seconds=S rate=X" and fails if any tip does not open.
 *
 * --floor adds the rest of the cryptography an import cannot skip, and nothing else: the
 * bundle's BLAKE2b-256 trailer digest (§5), each tip's BLAKE2b-256 of its sealed bytes (the
 * hash an acknowledgement carries, §5.2), sodium_unpad, and the re-encryption of the document
 * under the vault's data key (XChaCha20-Poly1305 with a random nonce, §10.2). It is the
 * fastest an import could be if parsing, triage and storage were free (issue 9).
 *
 * --floor-store DB adds to --floor the least durable storage there is: each re-encrypted
 * document inserted into a new SQLite file DB (WAL, synchronous=FULL, as the vault) as one
 * blob of a rowid table with no other column or index, all in one transaction. It is the
 * fastest an import could be if parsing and triage were free.
 *
 * Build: cc -O2 -o open-baseline open-baseline.c -lsodium -lsqlite3
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what) {
    fprintf(stderr, "open-baseline: %s\n", what);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open a file");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) die("short read");
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    int floor_mode = argc == 4 && !strcmp(argv[3], "--floor");
    int store_mode = argc == 5 && !strcmp(argv[3], "--floor-store");
    if (argc != 3 && !floor_mode && !store_mode)
        die("usage: open-baseline BUNDLE SECRET_KEY_FILE [--floor | --floor-store DB]");
    floor_mode |= store_mode;
    sqlite3 *db = NULL;
    sqlite3_stmt *insert = NULL;
    if (store_mode) {
        if (sqlite3_open(argv[4], &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                             "CREATE TABLE record (n INTEGER PRIMARY KEY, box BLOB NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "INSERT INTO record (box) VALUES (?)", -1, &insert, NULL) != SQLITE_OK)
            die("cannot make the store");
    }
    if (sodium_init() < 0) die("sodium_init");
    size_t blen, klen;
    char *bundle = slurp(argv[1], &blen);
    unsigned char *sk = (unsigned char *)slurp(argv[2], &klen), pk[32];
    if (klen != 32) die("the secret key file is not 32 bytes");
    crypto_scalarmult_base(pk, sk);
    unsigned char *sealed = malloc(1 << 27), *plain = malloc(1 << 27), *box = malloc(1 << 27);
    unsigned char data_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], digest[32];
    randombytes_buf(data_key, sizeof data_key);
    long tips = 0;
    double start = now();
    if (floor_mode) crypto_generichash(digest, 32, (const unsigned char *)bundle, blen, NULL, 0);
    if (store_mode && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) die("BEGIN failed");
    for (char *p = strstr(bundle, "\"sealed\":\""); p; p = strstr(p, "\"sealed\":\"")) {
        p += 10;
        char *q = strchr(p, '"');
        size_t n;
        if (!q || sodium_base642bin(sealed, 1 << 27, p, (size_t)(q - p), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL))
            die("bad base64");
        if (n < crypto_box_SEALBYTES || crypto_box_seal_open(plain, sealed, n, pk, sk) != 0) die("a tip did not open");
        if (floor_mode) {
            unsigned char hash[32], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
            size_t len;
            unsigned long long boxed;
            crypto_generichash(hash, 32, sealed, n, NULL, 0);
            /* As tipdesk unpads (SealedBox.unpaddedLength): the block is the whole padded size. */
            if (sodium_unpad(&len, plain, n - crypto_box_SEALBYTES, n - crypto_box_SEALBYTES) != 0) die("a tip is not padded");
            randombytes_buf(nonce, sizeof nonce);
            crypto_aead_xchacha20poly1305_ietf_encrypt(box, &boxed, plain, len, hash, 16, NULL, nonce, data_key);
            if (store_mode && (sqlite3_bind_blob(insert, 1, box, (int)boxed, SQLITE_STATIC) != SQLITE_OK ||
                               sqlite3_step(insert) != SQLITE_DONE || sqlite3_reset(insert) != SQLITE_OK))
                die("an insert failed");
        }
        tips++;
        p = q;
    }
    if (store_mode && (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK || sqlite3_finalize(insert) != SQLITE_OK ||
                       sqlite3_close(db) != SQLITE_OK))
        die("the commit failed");
    double took = now() - start;
    printf("RESULT tips=%ld seconds=%.3f rate=%.1f\n", tips, took, tips / took);
    return 0;
}
