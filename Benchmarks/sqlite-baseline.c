/* The storage baseline of the intake benchmark, and the pre-fill for its growth runs.
 *
 *   sqlite-baseline insert DB BODIES BATCH SECONDS
 *       Inserts the sealed blobs of BODIES (lines of make-bodies.py) into a tip table with
 *       tipgate's schema and pragmas (SECURITY.md §4.1-§4.2: WAL, synchronous=FULL,
 *       secure_delete=ON, WITHOUT ROWID keyed by (day, id), random 32-hex ids, today's UTC
 *       day), BATCH rows per transaction, for SECONDS seconds, from one thread: the writer of
 *       group commit with nothing else to do. Prints "RESULT rows=N seconds=S rps=X".
 *   sqlite-baseline prefill DB N
 *       Adds N rows of random 4144-byte blobs to an existing (or new) store, fast and not
 *       durably (synchronous=OFF): the stored tips of the growth runs. Random ids, each on a
 *       random one of the 365 UTC days before today: a store that holds many tips gathered
 *       them over months (a server exports and purges; a million tips in one day would be a
 *       flood, not growth), so the b-tree has the shape real intake gives it.
 *
 * Build: cc -O2 -o sqlite-baseline sqlite-baseline.c -lsqlite3 -lsodium
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sqlite3 *db;

static void die(const char *what) {
    fprintf(stderr, "sqlite-baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static void exec(const char *sql) {
    if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK) die(sql);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* tipgate's table as of migration v3 (IntakeDatabase.migrator), created only if the store
 * has none; bench.sh always lets tipgate make the store first. */
static void open_store(const char *path, const char *sync) {
    if (sqlite3_open(path, &db) != SQLITE_OK) die("open");
    exec("PRAGMA journal_mode = WAL");
    char s[64];
    snprintf(s, sizeof s, "PRAGMA synchronous = %s", sync);
    exec(s);
    exec("PRAGMA secure_delete = ON");
    exec("CREATE TABLE IF NOT EXISTS tip ("
         " id TEXT NOT NULL CHECK (length(id) = 32),"
         " key_id TEXT NOT NULL CHECK (length(key_id) = 16),"
         " day TEXT NOT NULL CHECK (length(day) = 10),"
         " sealed BLOB NOT NULL CHECK (length(sealed) >= 1072),"
         " exported INTEGER NOT NULL DEFAULT 0 CHECK (exported IN (0, 1)),"
         " PRIMARY KEY (day, id)"
         ") STRICT, WITHOUT ROWID");
    exec("CREATE INDEX IF NOT EXISTS tip_exported ON tip (exported)");
}

/* The UTC day `back` days before today, as YYYY-MM-DD. */
static void utc_day(int back, char out[11]) {
    time_t t = time(NULL) - (time_t)back * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void random_id(char out[33]) {
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, 33, b, sizeof b);
}

/* The sealed bytes of one body line: the base64 after "sealed":". */
static int sealed_of(const char *line, unsigned char *out, size_t cap, size_t *len) {
    const char *p = strstr(line, "\"sealed\":\"");
    if (!p) return -1;
    p += 10;
    const char *q = strchr(p, '"');
    if (!q) return -1;
    return sodium_base642bin(out, cap, p, (size_t)(q - p), NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL);
}

static int insert_mode(const char *path, const char *bodies, int batch, double seconds) {
    FILE *f = fopen(bodies, "r");
    if (!f) die("cannot read the bodies file");
    size_t n = 0, cap = 1024;
    unsigned char **blobs = malloc(cap * sizeof *blobs);
    size_t *lens = malloc(cap * sizeof *lens);
    char *line = NULL;
    size_t linecap = 0;
    unsigned char *tmp = malloc(1 << 21);
    while (getline(&line, &linecap, f) > 0) {
        if (n == cap) {
            cap *= 2;
            blobs = realloc(blobs, cap * sizeof *blobs);
            lens = realloc(lens, cap * sizeof *lens);
        }
        if (sealed_of(line, tmp, 1 << 21, &lens[n]) != 0) die("a body without valid sealed base64");
        blobs[n] = malloc(lens[n]);
        memcpy(blobs[n], tmp, lens[n]);
        n++;
    }
    fclose(f);
    free(tmp);
    free(line);
    if (n == 0) die("no bodies");
    open_store(path, "FULL");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO tip (id, key_id, day, sealed) VALUES (?, ?, ?, ?)", -1, &st, 0)) die("prepare");
    char today[11];
    utc_day(0, today);
    double start = now(), end = start + seconds;
    long rows = 0;
    size_t next = 0;
    while (now() < end) {
        exec("BEGIN IMMEDIATE");
        for (int i = 0; i < batch; i++) {
            char id[33];
            random_id(id);
            sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, "0123456789abcdef", 16, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, today, 10, SQLITE_STATIC);
            sqlite3_bind_blob(st, 4, blobs[next], (int)lens[next], SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) die("insert");
            sqlite3_reset(st);
            next = (next + 1) % n;
        }
        exec("COMMIT");
        rows += batch;
    }
    double took = now() - start;
    printf("RESULT rows=%ld seconds=%.3f rps=%.1f\n", rows, took, rows / took);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

static int prefill_mode(const char *path, long count) {
    open_store(path, "OFF");
    exec("PRAGMA cache_size = -524288"); /* 512 MiB: random ids touch the whole tree */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO tip (id, key_id, day, sealed) VALUES (?, ?, ?, ?)", -1, &st, 0)) die("prepare");
    unsigned char blob[4144];
    for (long i = 0; i < count; i++) {
        if (i % 20000 == 0) {
            if (i) exec("COMMIT");
            exec("BEGIN");
        }
        char id[33], day[11];
        random_id(id);
        utc_day(1 + (int)randombytes_uniform(365), day);
        randombytes_buf(blob, sizeof blob);
        sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, "0123456789abcdef", 16, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, day, 10, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, blob, sizeof blob, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) die("insert");
        sqlite3_reset(st);
    }
    exec("COMMIT");
    sqlite3_finalize(st);
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) die("sodium_init");
    if (argc == 6 && !strcmp(argv[1], "insert")) return insert_mode(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
    if (argc == 4 && !strcmp(argv[1], "prefill")) return prefill_mode(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: sqlite-baseline insert DB BODIES BATCH SECONDS | prefill DB N\n");
    return 2;
}
