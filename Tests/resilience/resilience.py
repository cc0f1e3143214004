#!/usr/bin/python3
"""Proof that nothing acknowledged is lost (SECURITY.md §4.3; non-negotiable 4).

Three checks against the real `tipgate` binary on 127.0.0.1 only, each bounded in count and
time and stopping everything it started:

  crash   Concurrent submissions from many connections while the server is killed with
          SIGKILL several times and restarted. Afterwards every tip that got a 201 is in the
          store: lost = 0.
  fsync   Under `strace -f`, for every acknowledged submission an fsync/fdatasync of the
          SQLite WAL happens before the response is written to the socket. (A kill cannot
          catch a missing fsync: the page cache outlives the process.)
  fulldisk  The data directory on a small tmpfs: the server answers 503 and never 201 for a
          tip it could not keep, keeps serving, and every tip it acknowledged is stored.

Run with Debian's /usr/bin/python3 (python3-nacl). `--size small` is for `make test`,
`--size large` for `make soak`. The last line is `resilience: N passed, M failed`.
"""
import argparse, base64, hashlib, http.client, json, os, re, shutil, signal, sqlite3, ssl, subprocess, sys
import tempfile, threading, time
from nacl.public import PrivateKey, PublicKey, SealedBox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TIPGATE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
SIZES = {"small": dict(rounds=3, threads=8, seconds=1.5, fsync_tips=20, slow=200, slow_seconds=14),
         "large": dict(rounds=20, threads=32, seconds=4.0, fsync_tips=300, slow=600, slow_seconds=25)}


def key_doc(pk):
    d = hashlib.blake2b(pk, digest_size=32).hexdigest()
    return {"v": 1, "key_id": d[:16], "public_key": base64.b64encode(pk).decode(),
            "fingerprint": " ".join(d[i:i + 4] for i in range(0, 64, 4))}


def envelope(pk, kid, text):
    doc = json.dumps({"v": 1, "body": text}).encode()
    padded = doc + b"\x80" + b"\x00" * (1024 - len(doc) - 1)
    sealed = SealedBox(PublicKey(pk)).encrypt(padded)
    return sealed, json.dumps({"v": 1, "key_id": kid, "sealed": base64.b64encode(sealed).decode()}).encode()


class Server:
    def __init__(self, work, data, pubkey, extra=(), wrapper=()):
        self.work, self.data = work, data
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-days", "2", "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.cert = cert
        self.out = open(os.path.join(work, "server.out"), "w+")
        self.err = open(os.path.join(work, "server.err"), "a")
        args = list(wrapper) + [os.path.join(BIN, "tipgate"), "serve", "--data", data, "--listen", "127.0.0.1:0",
                                "--admin-listen", "off", "--tls-cert", cert, "--tls-key", key, "--public-key", pubkey] + list(extra)
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err)
        self.wrapped = bool(wrapper)
        STARTED.append(self)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            self.out.seek(0)
            m = re.search(r"listening on https://127\.0\.0\.1:(\d+)", self.out.read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        # The server's own pid: under a wrapper (strace) it is the wrapper's child. Signalling
        # the wrapper would only detach it and leave the server running after the test.
        self.pid = self.proc.pid
        if self.wrapped and self.port is not None:
            self.pid = wrapped_child(self.proc.pid) or self.proc.pid
        if self.port is None:
            self.stop()
            raise RuntimeError("tipgate did not start")
        self.ctx = ssl.create_default_context(cafile=cert)
        self.ctx.check_hostname = False

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)

    def kill(self):
        signal_pid(self.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None or self.running():
            signal_pid(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                signal_pid(self.pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
            # A server that outlived its wrapper is no child of ours: wait for it by its pid.
            deadline = time.time() + 10
            while self.running() and time.time() < deadline:
                time.sleep(0.05)
            if self.running():
                signal_pid(self.pid, signal.SIGKILL)

    def running(self):
        """Whether the server process itself (not its wrapper) is still alive. Its pid may have
        been reused since it exited, so the process must also be this server: tipgate serving
        this data directory (never signal a stranger)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            return False
        return alive and any(a.endswith(b"tipgate") for a in args) and self.data.encode() in args


STARTED = []  # every Server of this run, checked at the end: none may be left running


def wrapped_child(pid):
    """The first child of `pid` (the program strace started), or None."""
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.05)
    return None


def signal_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stored_blobs(data):
    db = sqlite3.connect(os.path.join(data, "tipgate.sqlite"))
    try:
        return {bytes(r[0]) for r in db.execute("SELECT sealed FROM tip")}
    finally:
        db.close()


def load(server, pk, kid, label, count, stop, acked, lock, sent, keep_going):
    """Starts `count` threads, each posting sealed tips on its own kept-alive connection until
    `stop`, adding the sealed bytes of every 201 to `acked`. On a broken connection a thread
    reconnects (`keep_going`, for kills) or ends (for a shutdown)."""
    def worker(n):
        c = server.conn()
        i = 0
        while time.time() < stop:
            sealed, body = envelope(pk, kid, f"{label} worker {n} tip {i}")
            i += 1
            try:
                c.request("POST", "/api/v1/tips", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                with lock:
                    sent[0] += 1
                    if r.status == 201:
                        acked.append(sealed)
            except Exception:
                c.close()
                if not keep_going:
                    return
                c = server.conn()
        c.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    return threads


def check_crash(work, pk, kid, pub, size):
    data = os.path.join(work, "crash-data")
    acked, lock, sent = [], threading.Lock(), [0]
    for rnd in range(size["rounds"]):
        server = Server(work, data, pub)
        stop = time.time() + size["seconds"]

        threads = load(server, pk, kid, f"round {rnd}", size["threads"], stop, acked, lock, sent, keep_going=True)
        time.sleep(size["seconds"] * 0.7)
        server.kill()  # mid-load: requests are in flight
        for t in threads:
            t.join()
    final = Server(work, data, pub)
    final.stop()
    held = stored_blobs(data)
    lost = [a for a in acked if a not in held]
    print(f"crash: {size['rounds']} kills, {sent[0]} requests, {len(acked)} acknowledged, {len(held)} stored, lost = {len(lost)}")
    return len(lost) == 0 and len(acked) > 0


def check_fsync(work, pk, kid, pub, size):
    if not shutil.which("strace"):
        print("fsync: skipped: strace is not installed")
        return True
    data = os.path.join(work, "fsync-data")
    trace = os.path.join(work, "strace.txt")
    server = Server(work, data, pub, wrapper=["strace", "-f", "-yy", "-qq", "-o", trace,
                                               "-e", "trace=fsync,fdatasync,read,recvfrom,recvmsg,write,writev,sendmsg,sendto"])
    c = server.conn()
    # Start from a clean point in the trace: one warm-up request.
    c.request("GET", "/api/v1/key")
    c.getresponse().read()
    time.sleep(0.3)
    start_mark = os.path.getsize(trace)
    acks = 0
    for i in range(size["fsync_tips"]):
        _, body = envelope(pk, kid, f"fsync tip {i}")
        c.request("POST", "/api/v1/tips", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        acks += r.status == 201
    c.close()
    time.sleep(0.3)
    server.stop()
    with open(trace) as f:
        f.seek(start_mark)
        lines = f.read().splitlines()
    # Pair each request read from the socket with the next write to it (the response): a WAL
    # fsync must fall between them. Sequential requests on one connection make this exact;
    # writes not answering a read (the TLS close alert) are not responses.
    synced, pending, responses, ordered = False, False, 0, 0
    for line in lines:
        if re.search(r"\b(fsync|fdatasync)\(\d+<[^>]*tipgate\.sqlite-wal>\)\s+=\s+0", line):
            synced = True
        elif re.search(r"\b(read|recvfrom|recvmsg)\(\d+<TCP:.*\)\s+=\s+[1-9]", line):
            if not pending:
                pending, synced = True, False
        elif pending and re.search(r"\b(write|writev|sendmsg|sendto)\(\d+<TCP:", line):
            responses += 1
            ordered += synced
            pending = False
    print(f"fsync: {acks} acknowledged, {responses} responses written, {ordered} preceded by a WAL fsync")
    return acks == size["fsync_tips"] and responses == acks and ordered == acks


def check_fulldisk(work, pk, kid, pub, size):
    mnt = os.path.join(work, "small-disk")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt], capture_output=True)
    if r.returncode != 0:
        print(f"fulldisk: skipped: cannot mount a tmpfs here ({r.stderr.decode().strip()})")
        return True
    try:
        data = os.path.join(mnt, "data")
        # A floor of 0: the file system itself fills up, the harshest case for SQLite.
        server = Server(work, data, pub, extra=["--min-free-bytes", "0"])
        c = server.conn()
        acked, codes = [], {}
        for i in range(3000):
            sealed, body = envelope(pk, kid, f"fill {i}")
            try:
                c.request("POST", "/api/v1/tips", body, {"Content-Type": "application/json"})
                resp = c.getresponse()
                resp.read()
            except Exception:
                c.close()
                c = server.conn()
                continue
            codes[resp.status] = codes.get(resp.status, 0) + 1
            if resp.status == 201:
                acked.append(sealed)
            if codes.get(503, 0) >= 20:
                break
        c.request("GET", "/api/v1/key")
        alive = c.getresponse().status == 200
        c.close()
        server.stop()
        held = stored_blobs(data)
        lost = [a for a in acked if a not in held]
        print(f"fulldisk: responses {dict(sorted(codes.items()))}, acknowledged {len(acked)}, stored {len(held)}, lost = {len(lost)}, still serving: {alive}")
        return codes.get(503, 0) > 0 and not lost and alive
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def check_slowloris(work, pk, kid, pub, size):
    """Hundreds of connections dribble a request head a byte a second while honest sealed
    submissions keep going through; the header deadline (10 s) closes the dribblers."""
    import socket
    data = os.path.join(work, "slow-data")
    server = Server(work, data, pub)
    ctx = ssl.create_default_context(cafile=server.cert)
    ctx.check_hostname = False
    slow = []
    for _ in range(size["slow"]):
        try:
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=5), server_hostname="localhost")
            s.sendall(b"POST /api/v1/tips HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            slow.append(s)
        except OSError:
            break
    opened = len(slow)
    latencies, failures = [], 0
    start = time.time()
    closed_by_server = 0
    while time.time() - start < size["slow_seconds"]:
        for s in list(slow):
            try:
                s.send(b"X")
                # The server's close shows first as TLS close_notify on the read side (the TCP
                # close follows after NIO's TLS shutdown timeout).
                if s.recv(1) == b"":
                    raise ssl.SSLZeroReturnError()
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
            except OSError:
                slow.remove(s)
                closed_by_server += 1
        t0 = time.time()
        try:
            c = server.conn()
            _, body = envelope(pk, kid, "honest tip during slowloris")
            c.request("POST", "/api/v1/tips", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 201:
                latencies.append(time.time() - t0)
            else:
                failures += 1
        except Exception:
            failures += 1
        time.sleep(0.5)
    for s in slow:
        try:
            s.close()
        except OSError:
            pass
    server.stop()
    latencies.sort()
    worst = latencies[-1] if latencies else float("inf")
    median = latencies[len(latencies) // 2] if latencies else float("inf")
    print(f"slowloris: {opened} dribbling connections, {closed_by_server} closed by the server's header deadline; "
          f"{len(latencies)} honest tips stored, {failures} failed, median {median:.3f} s, worst {worst:.3f} s")
    return opened >= size["slow"] // 2 and failures == 0 and worst < 2.0 and closed_by_server >= opened * 0.9


def check_shutdown(work, pk, kid, pub, size):
    """SIGTERM mid-load: the server stops accepting, drains what is in flight, and exits;
    every tip it acknowledged is stored."""
    data = os.path.join(work, "shutdown-data")
    server = Server(work, data, pub)
    acked, lock = [], threading.Lock()
    stop = time.time() + 1.5

    threads = load(server, pk, kid, "shutdown", 8, stop, acked, lock, [0], keep_going=False)
    time.sleep(0.7)
    t0 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        code = "timeout"
    took = time.time() - t0
    for t in threads:
        t.join()
    held = stored_blobs(data)
    lost = [a for a in acked if a not in held]
    print(f"shutdown: exit {code} {took:.2f} s after SIGTERM, {len(acked)} acknowledged, lost = {len(lost)}")
    return code == 0 and not lost and len(acked) > 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", choices=SIZES, default="small")
    p.add_argument("checks", nargs="*", default=["crash", "fsync", "fulldisk", "slowloris", "shutdown"])
    args = p.parse_args()
    size = SIZES[args.size]
    work = tempfile.mkdtemp(prefix="tipgate-resilience-")
    sk = PrivateKey.generate()
    pk = bytes(sk.public_key)
    doc = key_doc(pk)
    pub = os.path.join(work, "org.public.json")
    with open(pub, "w") as f:
        json.dump(doc, f)
    passed = failed = 0
    try:
        for name in args.checks:
            checks = {"crash": check_crash, "fsync": check_fsync, "fulldisk": check_fulldisk,
                      "slowloris": check_slowloris, "shutdown": check_shutdown}
            ok = checks[name](work, pk, doc["key_id"], pub, size)
            passed += ok
            failed += not ok
            if not ok:
                print(f"{name}: FAILED")
    finally:
        # Everything started here stops here: a server left running holds its port and its
        # data directory after the test (the fsync check's, under strace, once did).
        left = [s for s in STARTED if s.running()]
        for s in left:
            print(f"left running: tipgate pid {s.pid} (data {s.data}): FAILED")
            signal_pid(s.pid, signal.SIGKILL)
        failed += len(left)
        if not os.environ.get("KEEP"): shutil.rmtree(work, ignore_errors=True)
    print(f"resilience: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
