"""Load benchmark: the app's pages under 16 connections, against a Flask hello-world on the same server.

Run from the project root:  ./dev bench load [--quick] [--backends=sqlite,postgresql] [--sizes=demo,x10]
(through ./dev bench, give option values with "=": its other words are benchmark names)

Prepares, once, a benchmark instance per database and size under instance/bench/ (kept between runs):
`coordinator setup`, a staff account and `coordinator demo`; the ten-times size with
`coordinator demo --scale 10` when that option exists. PostgreSQL databases (coordinator_bench_demo,
coordinator_bench_x10) are made on 127.0.0.1:5432. Then, per database and size:
  - starts `coordinator serve` (gunicorn, gthread) and a hello-world Flask app under gunicorn with the same
    workers and threads, each on a free port; logs in once (CSRF token from the login form);
  - per page, drives both with 16 keep-alive connections, interleaved A B A B in rounds, and prints
    requests per second, p50, p95 and p99 (ms), and the share of hello-world's requests per second;
  - sends 1 000 mixed requests and prints the resident size (VmRSS) of the app's and hello-world's workers.
Last, the start-up figures: `coordinator outbox send --json` with an empty outbox and `coordinator --help`
(median of 5 wall times), beside `flask --help` of the hello-world app.

Goals (issue 14): every page >= 10 % of hello-world's requests per second; p95 <= 150 ms at 16
connections on ten times the demo data on PostgreSQL; a worker <= 120 MB after 1 000 mixed requests;
`coordinator outbox send --json` <= 0.6 s.

Options: --quick (demo size only, one short round per page: a few minutes), --seconds and --rounds per page,
--workers/--threads for both servers, --code DIR to serve another checkout of the app (PYTHONPATH; for a
before/after comparison with the same data). Python bytecode caching is left on in the child processes
(an installed app has its .pyc files), whatever PYTHONDONTWRITEBYTECODE says here.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "instance" / "bench"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
EMAIL, PASSWORD = "bench@example.se", "benchmark-lösenord-2016"
CONNECTIONS = 16
GOAL_SHARE, GOAL_P95_MS, GOAL_RSS_MB, GOAL_OUTBOX_S = 0.10, 150.0, 120.0, 0.6

HELLO = '''from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"
'''


# --------------------------------------------------------------------------- processes

def child_env(extra: dict[str, str] | None = None, code: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "FLASK_APP", "COORDINATOR_TODAY", "DATABASE_URL")}
    env.setdefault("SECRET_KEY", "benchmark-secret")
    if code is not None:
        env["PYTHONPATH"] = str(code)
    env.update(extra or {})
    return env


def coordinator(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "coordinator", *args], env=env, cwd=env["COORDINATOR_INSTANCE"],
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"coordinator {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server on port {port} stopped (exit {process.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"the server on port {port} did not answer in {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def workers_of(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- data

def has_scale(env: dict[str, str]) -> bool:
    return "--scale" in coordinator(env, "demo", "--help").stdout


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def prepare(backend: str, size: str) -> dict[str, str]:
    """The instance folder (and PostgreSQL database) of one database and size, made once and kept."""
    folder = BENCH / f"{backend}-{size}"
    db_name = f"coordinator_bench_{size}"
    env = child_env({"COORDINATOR_INSTANCE": str(folder)})
    if backend == "postgresql":
        env["DATABASE_URL"] = PG.format(db=db_name)
    ready = folder / "ready"
    if ready.exists() and (backend != "postgresql" or pg_exists(db_name)):
        return env
    print(f"  preparing {backend} {size} in {folder} (once; kept for the next runs) ...", flush=True)
    t = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if backend == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', f'CREATE DATABASE "{db_name}"')
    coordinator(env, "setup")
    coordinator(env, "user", "create", "--email", EMAIL, "--name", "Bench", "--role", "admin",
                "--password", PASSWORD)
    coordinator(env, "demo", *(["--scale", "10"] if size == "x10" else []))
    ready.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    print(f"  prepared in {time.perf_counter() - t:.0f} s", flush=True)
    return env


# --------------------------------------------------------------------------- HTTP

class Session:
    """A logged-in cookie, shared by every connection (the app keeps the session in the signed cookie)."""

    def __init__(self, port: int):
        self.port = port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/logga-in")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = self._cookies(response)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD})
        conn.request("POST", "/logga-in", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            sys.exit(f"logging in failed ({response.status})")
        self.cookie = self._cookies(response) or cookie

    @staticmethod
    def _cookies(response) -> str:
        return "; ".join(v.split(";", 1)[0] for k, v in response.getheaders() if k.lower() == "set-cookie")

    def get(self, path: str) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, headers={"Cookie": self.cookie})
        response = conn.getresponse()
        return response.read().decode("utf-8", "replace")


def drive(port: int, paths: list[str], cookie: str, seconds: float | None = None, requests: int | None = None):
    """16 keep-alive connections asking for `paths` in turn, for `seconds` or until `requests` answers.
    Returns (requests per second, latencies in ms, count of answers that were not 200)."""
    latencies: list[float] = []
    errors = [0]
    kinds: dict[str, int] = {}  # what the failures were: a status code, or the connection error's name
    lock = threading.Lock()
    issued = [0]
    start = time.perf_counter()
    deadline = start + seconds if seconds else None
    headers = {"Cookie": cookie} if cookie else {}

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, i = [], k
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if requests is not None:
                with lock:
                    if issued[0] >= requests:
                        break
                    issued[0] += 1
            t = time.perf_counter()
            status = 0
            for attempt in (1, 2):
                try:
                    conn.request("GET", paths[i % len(paths)], headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    break
                except (OSError, http.client.HTTPException) as e:
                    # A keep-alive connection the server closed as the request went out: asked again once on a
                    # new connection, as a browser does; a second failure counts.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    failure = type(e).__name__
            mine.append((time.perf_counter() - t) * 1000)
            if status != 200:
                with lock:
                    errors[0] += 1
                    kinds[str(status or failure)] = kinds.get(str(status or failure), 0) + 1
            i += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if kinds:
        print(f"    ({paths[0] if len(paths) == 1 else 'mixed'}: not 200: "
              + ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items())) + ")", flush=True)
    return len(latencies) / elapsed, latencies, errors[0]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# --------------------------------------------------------------------------- the pages

def pages(session: Session) -> dict[str, str]:
    """The pages of issue 14, with ids found by following the app's own links."""
    def first(path: str, pattern: str) -> str | None:
        found = re.search(pattern, session.get(path))
        return found.group(0) if found else None

    sample = first("/urval/", r"/urval/\d+(?=[\"/])")
    questionnaire = first("/matningar/", r"/matningar/\d+/resultat")
    site = first("/platser/", r"/platser/\d+/")
    report = first("/rapporter/", r"/rapporter/\d{4}Q\d/")
    found = {
        "visits list": "/besok/lista",
        "map": "/besok/karta",
        "calendar": "/besok/kalender",
        "dialogue index": "/dialog/",
        "overview (start)": "/",
        "theme overview": "/dialog/oversikt",
        "search": "/dialog/sok?q=skola",
        "plans": "/handlingsplaner",
        "measurement results": questionnaire,
        "contacts": "/kontakter",
        "sample": sample,
        "sample protocol": f"{sample}/protokoll" if sample else None,
        "report draft (HTML)": report,
        "site page": site,
        "registry": "/register/",
    }
    missing = [name for name, path in found.items() if not path]
    if missing:
        print(f"  (not found in the data, left out: {', '.join(missing)})")
    return {name: path for name, path in found.items() if path}


# --------------------------------------------------------------------------- one database and size

def run_one(backend: str, size: str, args, code: Path | None) -> list[dict]:
    env = prepare(backend, size)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    folder = Path(env["COORDINATOR_INSTANCE"])
    (folder / "hello.py").write_text(HELLO)
    app_port, hello_port = free_port(), free_port()
    server = ["--workers", str(args.workers), "--threads", str(args.threads)]
    # The app's error log is kept (serve.log in the instance folder) to tell what a failed request was.
    log = open(folder / "serve.log", "w")  # noqa: SIM115  closed with the server below
    app = subprocess.Popen([sys.executable, "-m", "coordinator", "serve", "--port", str(app_port), *server],
                           env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=log)
    # The same gunicorn settings as `coordinator serve` (gthread, workers, threads, access log on).
    hello = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{hello_port}",
                              "--worker-class", "gthread", *server, "--access-logfile", "-",
                              "--error-logfile", "-", "hello:app"],
                             env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_up(app_port, "/logga-in", app)
        wait_up(hello_port, "/", hello)
        session = Session(app_port)
        paths = pages(session)
        print(f"\n{backend}, {size} ({args.workers} workers x {args.threads} threads, {CONNECTIONS} connections, "
              f"{args.rounds} x {args.seconds:g} s per page and server, interleaved)")
        print(f"  {'page':<22}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'hello req/s':>13}{'share':>8}"
              f"{'errors':>8}")
        for name, path in paths.items():
            drive(app_port, [path], session.cookie, requests=args.workers)  # warm the workers' caches
            app_rps, hello_rps, latencies, errors = [], [], [], 0
            for _ in range(args.rounds):  # A B A B
                rps, lat, err = drive(app_port, [path], session.cookie, seconds=args.seconds)
                app_rps.append(rps)
                latencies += lat
                errors += err
                rps, _lat, err = drive(hello_port, ["/"], "", seconds=args.seconds)
                hello_rps.append(rps)
                errors += err
            row = {"backend": backend, "size": size, "page": name, "rps": statistics.mean(app_rps),
                   "hello": statistics.mean(hello_rps), "p50": percentile(latencies, 50),
                   "p95": percentile(latencies, 95), "p99": percentile(latencies, 99), "errors": errors}
            row["share"] = row["rps"] / row["hello"] if row["hello"] else float("nan")
            rows.append(row)
            print(f"  {name:<22}{row['rps']:>8.1f}{row['p50']:>9.0f}{row['p95']:>9.0f}{row['p99']:>9.0f}"
                  f"{row['hello']:>13.0f}{row['share']:>7.1%}{errors:>8}", flush=True)
        # Memory: 1 000 mixed requests over every page, then each worker's resident size.
        _rps, _lat, errors = drive(app_port, list(paths.values()), session.cookie, requests=args.mixed)
        drive(hello_port, ["/"], "", requests=args.mixed)
        app_rss = [rss_mb(pid) for pid in workers_of(app.pid)]
        hello_rss = [rss_mb(pid) for pid in workers_of(hello.pid)]
        print(f"  memory after {args.mixed} mixed requests ({errors} not 200): app workers "
              f"{', '.join(f'{r:.0f}' for r in sorted(app_rss))} MB (largest {max(app_rss):.0f} MB); "
              f"hello-world workers {max(hello_rss):.0f} MB")
        rows.append({"backend": backend, "size": size, "page": "(worker RSS)", "rss": max(app_rss),
                     "hello_rss": max(hello_rss)})
    finally:
        stop(app)
        stop(hello)
        log.close()
    return rows


def startup(code: Path | None) -> dict[str, tuple[float, float]]:
    """Wall time of the cron command and of --help, median of 5, on a fresh empty instance."""
    folder = BENCH / "startup"
    env = child_env({"COORDINATOR_INSTANCE": str(folder)}, code)
    if not (folder / "ready").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        coordinator(env, "setup")
        (folder / "ready").write_text("")
    (folder / "hello.py").write_text(HELLO)

    def median_wall(command: list[str], **kwargs) -> tuple[float, float]:
        """Median wall time and median CPU time (user + system; the steadier figure on a busy machine)."""
        subprocess.run(command, env=kwargs.get("env", env), cwd=folder, capture_output=True)  # bytecode cache
        times, cpu = [], []
        for _ in range(5):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            result = subprocess.run(command, env=kwargs.get("env", env), cwd=folder, capture_output=True, text=True)
            times.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if result.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        return statistics.median(times), statistics.median(cpu)

    flask = str(Path(sys.executable).with_name("flask"))
    figures = {
        "coordinator outbox send --json": median_wall([sys.executable, "-m", "coordinator", "outbox", "send", "--json"]),
        "coordinator --help": median_wall([sys.executable, "-m", "coordinator", "--help"]),
        "flask --help (hello-world)": median_wall([flask, "--app", "hello", "--help"]),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="demo size only, one short round per page")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default=None, help="demo,x10 (x10 only if `coordinator demo --scale` exists)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per page, server and round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--mixed", type=int, default=1000, help="mixed requests before the memory figure")
    parser.add_argument("--workers", type=int, default=None, help="default: as `coordinator serve`")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--code", type=Path, default=None, help="serve this checkout instead (PYTHONPATH)")
    args = parser.parse_args()
    args.seconds = args.seconds or (2.0 if args.quick else 3.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    if args.workers is None:
        sys.path.insert(0, str(ROOT))
        from coordinator.server import default_workers

        args.workers = default_workers()
    code = args.code.resolve() if args.code else None
    BENCH.mkdir(parents=True, exist_ok=True)

    sizes = (args.sizes or ("demo" if args.quick else "demo,x10")).split(",")
    if "x10" in sizes and not has_scale(child_env({"COORDINATOR_INSTANCE": str(BENCH)}, code)):
        print("(`coordinator demo --scale` does not exist in this checkout: ten times the demo size is left out)")
        sizes.remove("x10")
    t = time.perf_counter()
    rows = []
    for size in sizes:
        for backend in args.backends.split(","):
            rows += run_one(backend, size, args, code)
    figures = startup(code)
    print("\nstart-up (median of 5 runs)")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<34}{wall:6.2f} s wall {cpu:6.2f} s CPU")

    print("\ngoals")
    pages_rows = [r for r in rows if "share" in r]
    low = [r for r in pages_rows if not r["share"] >= GOAL_SHARE]
    print(f"  every page >= {GOAL_SHARE:.0%} of hello-world: "
          + ("met" if not low else "missed by " + "; ".join(
              f"{r['page']} ({r['backend']}, {r['size']}: {r['share']:.1%})" for r in low)))
    pg10 = [r for r in pages_rows if r["backend"] == "postgresql" and r["size"] == "x10"]
    if pg10:
        slow = [r for r in pg10 if not r["p95"] <= GOAL_P95_MS]
        print(f"  p95 <= {GOAL_P95_MS:.0f} ms on 10x PostgreSQL: " + ("met" if not slow else "missed by " + "; ".join(
            f"{r['page']} ({r['p95']:.0f} ms)" for r in slow)))
    else:
        print(f"  p95 <= {GOAL_P95_MS:.0f} ms on 10x PostgreSQL: not measured (no 10x data in this run)")
    for r in (r for r in rows if "rss" in r):
        print(f"  worker RSS <= {GOAL_RSS_MB:.0f} MB ({r['backend']}, {r['size']}): {r['rss']:.0f} MB, "
              + ("met" if r["rss"] <= GOAL_RSS_MB else "missed"))
    outbox = figures["coordinator outbox send --json"][0]
    print(f"  outbox send <= {GOAL_OUTBOX_S} s: {outbox:.2f} s, " + ("met" if outbox <= GOAL_OUTBOX_S else "missed"))
    print(f"(benchmark took {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
