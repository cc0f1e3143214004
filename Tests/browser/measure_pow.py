#!/usr/bin/python3
"""Measures how long the witness page's proof of work takes (SECURITY.md §4.6), to choose
powMaxDifficulty. Not part of `make test`.

Run from the repository root with Debian's Python (python3-selenium, chromium,
chromium-driver, node-tweetnacl):

    /usr/bin/python3 Tests/browser/measure_pow.py [--difficulties 12,14,16,18,20] [--runs 3]
        [--jitless] [--budget 1200]

What it times, in headless Chromium, for each difficulty, `--runs` times on a fresh random
49-byte challenge (the difficulty in byte 24) and fresh random 1072 sealed bytes (a 1 KiB
block, the usual tip):

  worker, rate 1     `new Worker('/static/pow-worker.js')` as app.js starts it, until the nonce
                     arrives: worker start-up (importScripts of tweetnacl and seal.js) included.
  worker, rate 6     the same, with the renderer slowed sixfold. DevTools' own throttle cannot
                     do this: Emulation.setCPUThrottlingRate on a worker target answers
                     "Operation is only supported for pages, not workers", and the page's
                     throttle does not reach the worker thread (checked at start-up, printed).
                     So the renderer processes of this run's own Chromium are stopped and
                     continued (SIGSTOP/SIGCONT) on a 1:5 duty cycle while a run lasts; the
                     effective slowdown is measured and printed next to the numbers.
  page, rate 1 / 6   the same solver (tipgateSeal.powSolver) on the page's main thread in 25 ms
                     slices, as app.js does when no worker can run, under DevTools'
                     Emulation.setCPUThrottlingRate 1 and 6 (the brief's low-end-phone proxy).
  --jitless          also the worker in a Chromium whose V8 runs with --jitless, rate 1 only, up
                     to --jitless-max (14): no JIT, as in Tor Browser at its Safer level (which
                     sets javascript.options.ion and baselinejit to false) or iOS Lockdown Mode.

The expected work is 2^difficulty hashes, so a few runs vary a lot (the count is geometric);
the hash rate over all runs is the steady figure, and `expected` is 2^difficulty / rate.

Bounded and loopback only: the pages and scripts come from a standard-library HTTP server on
127.0.0.1 (an ephemeral port) that serves the three scripts from this tree with tipgate's
page and worker Content-Security-Policy; each run is capped at 16 × 2^difficulty hashes and
WAIT_RUN seconds; the whole measurement stops at --budget seconds (later runs are skipped) and
a watchdog kills every process it started shortly after. It starts nothing but that server,
chromedriver and Chromium, and stops them by id at the end.
"""
import argparse
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_browser import _kill_driver_processes, _pids_using  # noqa: E402  (one copy of the cleanup)
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STATIC = os.path.join(ROOT, "Sources/TipServer/Resources/static")
NACL = "/usr/share/nodejs/tweetnacl/nacl-fast.min.js"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/lib/chromium/chromium" if os.path.exists("/usr/lib/chromium/chromium") else "/usr/bin/chromium"
# tipgate's CSPs (PageController.pageCSP and the worker script's).
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; worker-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
WORKER_CSP = "default-src 'none'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
WAIT_RUN = 300  # seconds: the most one run may take
DUTY_ON = 0.004  # seconds the renderer runs per cycle under "rate 6" (then 5 × this stopped)
LIMIT_FACTOR = 16  # hashes per run at most: 16 × 2^difficulty (the chance of needing more is e^-16)

FILES = {
    "/static/pow-worker.js": os.path.join(STATIC, "pow-worker.js"),
    "/static/seal.js": os.path.join(STATIC, "seal.js"),
    "/static/nacl-fast.min.js": NACL,
}
PAGE = (b"<!doctype html><html lang=en><meta charset=utf-8><title>pow</title>"
        b"<script src=/static/nacl-fast.min.js></script><script src=/static/seal.js></script><p>pow</p></html>")

_started = {"server": None, "drivers": []}  # drivers: (driver, chromedriver pid, user-data-dir)
_stopped_pids = set()  # renderers currently stopped by the duty cycle, continued on every exit path


class Static(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/":
            body, ctype, csp = PAGE, "text/html; charset=utf-8", PAGE_CSP
        elif self.path in FILES:
            with open(FILES[self.path], "rb") as f:
                body = f.read()
            ctype = "text/javascript; charset=utf-8"
            csp = WORKER_CSP if self.path.endswith("pow-worker.js") else "default-src 'none'"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        for name, value in [("Content-Type", ctype), ("Content-Security-Policy", csp), ("Cache-Control", "no-store"),
                            ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def renderer_pids(user_data_dir):
    out = []
    for pid in _pids_using(user_data_dir):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"--type=renderer" in f.read():
                    out.append(pid)
        except OSError:
            pass
    return out


def _continue_stopped():
    for pid in list(_stopped_pids):
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        _stopped_pids.discard(pid)


def stop_everything():
    _continue_stopped()
    for driver, chromedriver_pid, user_data_dir in list(_started["drivers"]):
        try:
            driver.quit()
        except Exception:
            pass
        _kill_driver_processes(chromedriver_pid, user_data_dir)
        _started["drivers"].remove((driver, chromedriver_pid, user_data_dir))
    if _started["server"] is not None:
        _started["server"].shutdown()
        _started["server"] = None


def make_driver(tmp, jitless=False):
    user_data_dir = tempfile.mkdtemp(prefix="chromium-pow-", dir=tmp)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=800,600",
                f"--user-data-dir={user_data_dir}", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage", "--disable-breakpad",
                # A hidden or occluded page must not be slowed by the browser on its own.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"] + (["--js-flags=--jitless"] if jitless else []):
        opts.add_argument(arg)
    service = Service(CHROMEDRIVER, log_path=os.path.join(tmp, "chromedriver.log"), popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(service=service, options=opts)
    _started["drivers"].append((driver, service.process.pid, user_data_dir))
    driver.set_script_timeout(WAIT_RUN)
    driver.user_data_dir = user_data_dir
    return driver


# In the page: one run in a fresh worker, as app.js starts it. Resolves {ms, tried, nonce}.
WORKER_RUN = """
var done = arguments[arguments.length - 1], d = arguments[0], limit = arguments[1];
var c = new Uint8Array(49), s = new Uint8Array(1072);
crypto.getRandomValues(c); crypto.getRandomValues(s); c[24] = d;
var t0 = performance.now(), w = new Worker('/static/pow-worker.js');
w.onmessage = function (e) {
  var m = e.data;
  if (typeof m.progress === 'number') return;
  var ms = performance.now() - t0;
  w.terminate();
  if (m.nonce === undefined) { done({error: String(m.error)}); return; }
  done({ms: ms, tried: m.tried, ok: m.nonce !== null && tipgateSeal.powVerify(c, s, m.nonce)});
};
w.onerror = function (e) { e.preventDefault(); done({error: 'worker: ' + e.message}); };
w.postMessage({challenge: c, sealed: s, limit: limit});
"""

# In the page: one run on the main thread in 25 ms slices with a timer between, as app.js does
# without a worker.
PAGE_RUN = """
var done = arguments[arguments.length - 1], d = arguments[0], limit = arguments[1];
var c = new Uint8Array(49), s = new Uint8Array(1072);
crypto.getRandomValues(c); crypto.getRandomValues(s); c[24] = d;
var t0 = performance.now(), solver = tipgateSeal.powSolver(c, s);
function slice() {
  var started = Date.now(), nonce = null;
  do {
    nonce = solver.run(Math.min(1000, limit - solver.tried()));
    if (nonce !== null || solver.tried() >= limit) {
      done({ms: performance.now() - t0, tried: solver.tried(), ok: nonce !== null && tipgateSeal.powVerify(c, s, nonce)});
      return;
    }
  } while (Date.now() - started < 25);
  setTimeout(slice, 0);
}
setTimeout(slice, 0);
"""


class DutyCycle:
    """Stops and continues this run's renderer processes so they run 1/rate of the time."""

    def __init__(self, pids, rate):
        self.pids, self.rate, self.stop = pids, rate, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        try:
            while not self.stop.is_set():
                _continue_stopped()
                time.sleep(DUTY_ON)
                for pid in self.pids:
                    try:
                        os.kill(pid, signal.SIGSTOP)
                        _stopped_pids.add(pid)
                    except ProcessLookupError:
                        pass
                time.sleep(DUTY_ON * (self.rate - 1))
        finally:
            _continue_stopped()

    def __enter__(self):
        if self.rate > 1:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        _continue_stopped()


def run_once(driver, mode, rate, d):
    limit = LIMIT_FACTOR * 2 ** d
    if mode == "page":
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": rate})
        try:
            return driver.execute_async_script(PAGE_RUN, d, limit)
        finally:
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
    with DutyCycle(renderer_pids(driver.user_data_dir), rate):
        return driver.execute_async_script(WORKER_RUN, d, limit)


def hash_rate(driver, mode, rate, hashes):
    """Hashes per second over a fixed count, on a challenge no one meets (255 bits)."""
    if mode == "page":
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": rate})
        try:
            r = driver.execute_async_script(PAGE_RUN, 255, hashes)
        finally:
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
    else:
        with DutyCycle(renderer_pids(driver.user_data_dir), rate):
            r = driver.execute_async_script(WORKER_RUN, 255, hashes)
    if "error" in r:
        raise RuntimeError(r["error"])
    return r["tried"] / (r["ms"] / 1000)


def devtools_reaches_worker(driver):
    """(page throttle 6 ÷ none) for the worker's hash rate: about 1 means it does not."""
    rates = {}
    driver.execute_async_script(WORKER_RUN, 255, 50_000)  # warm-up
    for rate in (1, 6):
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": rate})
        try:
            r = driver.execute_async_script(WORKER_RUN, 255, 200_000)
        finally:
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
        rates[rate] = r["tried"] / (r["ms"] / 1000)
    return rates[1] / rates[6]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--difficulties", default="12,14,16,18,20")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jitless", action="store_true")
    ap.add_argument("--jitless-max", type=int, default=14, help="the highest difficulty run without JIT (it is slow)")
    ap.add_argument("--budget", type=float, default=1200, help="seconds for all runs; later ones are skipped")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    difficulties = [int(x) for x in args.difficulties.split(",")]
    if any(not 0 <= d <= 24 for d in difficulties) or not 1 <= args.runs <= 20:
        ap.error("difficulties from 0 to 24, runs from 1 to 20")
    for path in [CHROMEDRIVER, CHROMIUM, NACL] + list(FILES.values()):
        if not os.path.exists(path):
            sys.exit(f"measure_pow: {path} is missing")

    load = os.getloadavg()[0]
    if load > 0.5:
        sys.stderr.write(f"measure_pow: the load average is {load:.2f}; numbers will be low if something else runs\n")
    started = time.monotonic()
    deadline = started + args.budget
    watchdog = threading.Timer(args.budget + 3 * WAIT_RUN / 2, lambda: (stop_everything(), os._exit(2)))
    watchdog.daemon = True
    watchdog.start()
    tmp = tempfile.mkdtemp(prefix="tipgate-pow-measure-")
    results = {"machine": {"cpus": os.cpu_count(), "chromium": None, "load_before": load}, "rows": []}
    totals = {}  # config -> [hashes, seconds] over every run
    try:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Static)
        _started["server"] = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        configs = [("worker", 1, False), ("worker", 6, False), ("page", 1, False), ("page", 6, False)]
        if args.jitless:
            configs.append(("worker", 1, True))
        drivers = {}
        for jitless in sorted({c[2] for c in configs}):
            d = make_driver(tmp, jitless)
            d.get(origin + "/")
            assert d.execute_script("return typeof tipgateSeal === 'object' && typeof nacl === 'object'")
            drivers[jitless] = d
        main_driver = drivers[False]
        results["machine"]["chromium"] = main_driver.capabilities.get("browserVersion")
        # Does DevTools' throttle reach the worker? (It answers "only supported for pages".)
        reach = devtools_reaches_worker(main_driver)
        sys.stderr.write(f"DevTools rate 6 on the page slows the worker by {reach:.2f}x (6 would mean it reaches it)\n")
        results["devtools_rate6_worker_slowdown"] = reach
        rates = {}
        for mode, rate, jitless in configs:
            rates[(mode, rate, jitless)] = hash_rate(drivers[jitless], mode, rate, 20_000 if jitless else 200_000)
        results["hash_rates"] = {f"{m} rate {r}{' jitless' if j else ''}": h for (m, r, j), h in rates.items()}
        for (m, r, j), h in rates.items():
            sys.stderr.write(f"{m:6} rate {r}{' jitless' if j else '':8}: {h:,.0f} hashes/s\n")
        for d in difficulties:
            for mode, rate, jitless in configs:
                times, tried, skipped = [], 0, 0
                for _ in range(args.runs):
                    if time.monotonic() > deadline or (jitless and d > args.jitless_max):
                        skipped += 1
                        continue
                    r = run_once(drivers[jitless], mode, rate, d)
                    if "error" in r or not r.get("ok"):
                        raise RuntimeError(f"difficulty {d}, {mode} rate {rate}: {r}")
                    times.append(r["ms"] / 1000)
                    tried += r["tried"]
                    if d >= 16:  # long enough that the worker's start-up does not dominate
                        t = totals.setdefault((mode, rate, jitless), [0, 0.0])
                        t[0] += r["tried"]
                        t[1] += r["ms"] / 1000
                label = f"{mode}, rate {rate}" + (", jitless" if jitless else "")
                h = rates[(mode, rate, jitless)]
                row = {"difficulty": d, "config": label, "key": (mode, rate, jitless), "runs": len(times), "skipped": skipped,
                       "mean_s": sum(times) / len(times) if times else None, "worst_s": max(times) if times else None,
                       "expected_s": 2 ** d / h, "hashes_per_run": tried / len(times) if times else None}
                results["rows"].append(row)
                sys.stderr.write(f"d={d:2} {label:24} runs={len(times)} mean={row['mean_s'] or float('nan'):7.2f}s "
                                 f"worst={row['worst_s'] or float('nan'):7.2f}s expected={row['expected_s']:7.2f}s\n")
    finally:
        stop_everything()
        watchdog.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()[0]
    # The steady rate of each configuration: every hash of its runs at difficulty 16 or more
    # over every second of them, start-up included.
    run_rates = {k: h / sec for k, (h, sec) in totals.items() if sec > 0}
    results["run_hash_rates"] = {f"{m} rate {r}{' jitless' if j else ''}": v for (m, r, j), v in run_rates.items()}
    for row in results["rows"]:  # expected: 2^d at the slower of the calibration and run rates
        key = row.pop("key")
        row["expected_s"] = 2 ** row["difficulty"] / min(rates[key], run_rates.get(key, math.inf))

    # The table, and the cap: the largest difficulty whose expected time on a rate-6 worker
    # is at most 5 s (the mean of a few runs is too noisy to decide alone).
    print(f"Chromium {results['machine']['chromium']}, {results['machine']['cpus']} CPUs; "
          f"{args.runs} runs per cell; seconds from new Worker (or the first slice) to the nonce.")
    print(f"Load average {results['machine']['load_before']:.2f} before, {results['machine']['load_after']:.2f} after.")
    print(f"DevTools rate 6 slows the worker {results['devtools_rate6_worker_slowdown']:.2f}x "
          "(it throttles pages only), so 'worker, rate 6' is the renderer duty-cycled 1:5.")
    for k, v in results["hash_rates"].items():
        over_runs = results["run_hash_rates"].get(k)
        print(f"  hash rate, {k}: {v:,.0f}/s at calibration"
              + (f", {over_runs:,.0f}/s over all its runs" if over_runs else ""))
    w1, w6 = run_rates.get(("worker", 1, False)), run_rates.get(("worker", 6, False))
    p1, p6 = run_rates.get(("page", 1, False)), run_rates.get(("page", 6, False))
    if w1 and w6:
        print(f"  slowdown over the runs: worker {w1 / w6:.1f}x (duty cycle)" + (f", page {p1 / p6:.1f}x (DevTools)" if p1 and p6 else ""))
    labels = []
    for row in results["rows"]:
        if row["config"] not in labels:
            labels.append(row["config"])
    print()
    print("| difficulty | " + " | ".join(f"{x}: mean / worst (expected)" for x in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for d in difficulties:
        cells = []
        for label in labels:
            row = next(r for r in results["rows"] if r["difficulty"] == d and r["config"] == label)
            if row["runs"]:
                cells.append(f"{row['mean_s']:.2f} / {row['worst_s']:.2f} ({row['expected_s']:.2f})")
            else:
                cells.append(f"skipped ({row['expected_s']:.2f})")
        print(f"| {d} | " + " | ".join(cells) + " |")
    h6 = min(rates[("worker", 6, False)], run_rates.get(("worker", 6, False), math.inf))
    cap = int(math.floor(math.log2(5 * h6)))
    results["largest_difficulty_rate6_worker_5s"] = cap
    print()
    print(f"largest difficulty a rate-6 worker solves in <= 5 s on average: {cap} "
          f"(2^{cap} / {h6:,.0f} hashes/s = {2 ** cap / h6:.2f} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    print(f"measure_pow: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_everything()
