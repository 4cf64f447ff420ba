"""`make bench`: the mock against a bare Starlette app (and Prism), one run, one report.

Every figure is measured in this run and set against a baseline measured in
this run too: a bare Starlette app on the same uvicorn, loop and HTTP parser,
driven by the same wrk script immediately before the mock, so drift of a
shared machine hits both alike. Timings are not tests: nothing here fails a
build; `bench/results.md` says which targets hold.

Settings come from the environment (the Makefile passes them on):
DURATION (seconds per wrk run, 5), CONNECTIONS (32), THREADS (wrk threads, 1),
ROUNDS (2), PEERS=1 (also Prism), PROFILE=1 (also py-spy per workload).
Besides results.md it draws results.png (matplotlib, the `bench` extra).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mockserver.server.process import free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "lua"
RESULTS = BENCH / "results.md"
PROFILE_NOTES = BENCH / "profile.md"
CHART = BENCH / "results.png"
#: hand-written reading of the figures and the profile, kept across runs
NOTES = BENCH / "notes.md"
PYTHON = sys.executable
MOCKSERVER = Path(PYTHON).with_name("mockserver")

DURATION = int(os.environ.get("DURATION") or 5)
CONNECTIONS = int(os.environ.get("CONNECTIONS") or 32)
THREADS = int(os.environ.get("THREADS") or 1)
ROUNDS = int(os.environ.get("ROUNDS") or 2)
PEERS = os.environ.get("PEERS") in ("1", "true", "yes")
PROFILE = os.environ.get("PROFILE") in ("1", "true", "yes")
SCALE_RECORDS = int(os.environ.get("SCALE_RECORDS") or 100_000)

FACTURACION = {"Authorization": "Bearer 1|sunat_demo_admin_token"}
DAFTRA = {"APIKEY": "demo-daftra-api-key"}


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    script: str
    status: int  # what every mock answer must be
    target: float  # least share of the baseline's requests/s


WORKLOADS = [
    Workload("facturacion_create", "Facturación create client (unique document)", "facturacion_create.lua", 201, 0.5),
    Workload("daftra_create", "Daftra create client", "daftra_create.lua", 202, 0.4),
    Workload("show", "Show one client (Facturación)", "show.lua", 200, 0.4),
    Workload("list", "List a page of clients (Facturación, 20)", "list.lua", 200, 0.4),
    Workload("duplicate", "Duplicate create, 400 (Facturación)", "duplicate.lua", 400, 0.4),
    Workload("invalid", "Invalid create, 422 (Facturación)", "invalid.lua", 422, 0.4),
]
#: at 32 connections, p99 at most this many times p50 on every workload
TAIL = 2.5
#: one caller alone: p99 of the create at most this (ms)
ALONE_P99_MS = 1.0
PRISM_TIMES = 5
RSS_LIMIT_MB = 150
LIST_COST_LIMIT = 1.2
STARTUP_LIMIT_S = 1.0
WORKERS_GAIN = 1.6


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and timeouts
    non_2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass
class Pair:
    """A workload's runs on the mock and on what it is compared with, round by round."""

    mock: list[Run] = field(default_factory=list)
    other: list[Run] = field(default_factory=list)
    wrong_status: int = 0

    @staticmethod
    def _rps(runs: list[Run]) -> float:
        return sum(r.requests for r in runs) / sum(r.seconds for r in runs)

    @property
    def ratio(self) -> float:
        return self._rps(self.mock) / self._rps(self.other)


# -- processes ---------------------------------------------------------------
def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def wait_until_up(port: int, path: str, headers: dict[str, str], process: subprocess.Popen, limit: float = 60) -> float:
    """Seconds until `path` first answers 200 (polled every 5 ms)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            if request(port, "GET", path, headers=headers, timeout=2)[0] == 200:
                return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.005)
    raise RuntimeError(f"server on port {port} did not answer {path} within {limit} s")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def serve(kind: str, extra: list[str] | None = None) -> Iterator[Server]:
    """A baseline or mock server on a free port, stopped on exit.

    The mock is `mockserver serve` itself; the baseline goes through
    bench/serve.py, which makes the same uvicorn call (httptools, uvloop).
    """
    port = free_port()
    if kind == "mock":
        command = [
            str(MOCKSERVER),
            "serve",
            "--port",
            str(port),
            "--no-access-log",
            "--no-reload",
            "--log-level",
            "warning",
            *(extra or []),
        ]
    else:
        command = [PYTHON, str(BENCH / "serve.py"), kind, "--port", str(port)]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = Server(kind, port, process)
    try:
        probe = ("/api2/clients/1", DAFTRA) if kind == "mock" else ("/health", {})
        # worker processes each load every spec: on a busy machine that takes a while
        wait_until_up(port, *probe, process, limit=180 if "--workers" in (extra or []) else 60)
        yield server
    except RuntimeError:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace"))
        raise
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def prism() -> Iterator[Server]:
    """Prism 5 from npm, installed into a temporary folder, mocking the Facturación spec."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("PEERS=1 needs npm (Debian package npm)")
    with tempfile.TemporaryDirectory(prefix="bench-prism-") as folder:
        print("installing Prism into", folder, flush=True)
        subprocess.run(
            [npm, "install", "--prefix", folder, "--no-audit", "--no-fund", "--silent", "@stoplight/prism-cli@5"],
            check=True,
        )
        port = free_port()
        command = [
            str(Path(folder) / "node_modules" / ".bin" / "prism"),
            "mock",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            str(ROOT / "specs" / "facturacion.yaml"),
        ]
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(port, "/api/v1/clients/1", FACTURACION, process, limit=120)
            version = subprocess.run([command[0], "--version"], capture_output=True, text=True).stdout.strip()
            yield Server(f"prism {version}", port, process)
        finally:
            process.terminate()
            process.wait(10)
            log.close()


# -- wrk ---------------------------------------------------------------------
def wrk(port: int, script: str, duration: int = DURATION, tag: str = "", connections: int = CONNECTIONS) -> Run:
    env = {**os.environ, "BENCH_RUN": tag or str(int(time.time()) % 100000)}
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"],
        non_2xx=data["non_2xx"],
    )


def prepare(mock: Server) -> None:
    """Fixtures back and an empty journal, so each workload starts from the same state."""
    request(mock.port, "POST", "/__mock/reset")
    request(mock.port, "DELETE", "/__mock/journal")


def wrong_answers(mock: Server, workload: Workload) -> int:
    """Journal entries (the last 1000 at most) whose status is not the workload's."""
    total = request(mock.port, "GET", "/__mock/journal/count")[1]["count"]
    right = request(mock.port, "GET", f"/__mock/journal/count?status={workload.status}")[1]["count"]
    return total - right


def measure(mock: Server, other: Server, workloads: list[Workload], rounds: int = ROUNDS) -> dict[str, Pair]:
    """Each workload on `other` and on the mock, back to back, round after round."""
    pairs = {w.name: Pair() for w in workloads}
    for round_number in range(rounds):
        for index, workload in enumerate(workloads):
            pair = pairs[workload.name]
            # the order flips every round, so neither side always runs first
            order = [other, mock] if (round_number + index) % 2 == 0 else [mock, other]
            for server in order:
                if server is mock:
                    prepare(mock)
                run = wrk(server.port, workload.script, tag=f"{round_number}{index}{int(time.time()) % 1000:03d}")
                (pair.mock if server is mock else pair.other).append(run)
                if server is mock:
                    pair.wrong_status += wrong_answers(mock, workload)
                print(
                    f"  {workload.name:<20} {server.name:<18} {run.rps:8.0f} req/s  "
                    f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms",
                    flush=True,
                )
    return pairs


# -- scale -------------------------------------------------------------------
def clients(count: int) -> list[dict[str, Any]]:
    """Daftra clients shaped like the fixtures' (every field of the schema filled in)."""
    return [
        {
            "id": n,
            "is_offline": False,
            "client_number": f"{n:06d}",
            "staff_id": 0,
            "business_name": f"Client {n} Trading",
            "first_name": "Amal",
            "last_name": f"Farouk {n}",
            "email": f"accounts{n}@client.example",
            "address1": f"{n} Corniche Road",
            "address2": None,
            "city": "Cairo",
            "state": "Cairo",
            "postal_code": "11511",
            "phone1": "+20 2 1111 2222",
            "phone2": None,
            "country_code": "EG",
            "notes": None,
            "active_secondary_address": False,
            "default_currency_code": "EGP",
            "suspend": False,
            "created": "2025-06-01 10:00:00",
            "modified": "2025-06-01 10:00:00",
        }
        for n in range(1, count + 1)
    ]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@dataclass
class Scale:
    startup_s: list[float]
    rss_idle_mb: float
    rss_mb: float
    peak_rss_mb: float
    load_s: float
    small: list[Run]
    large: list[Run]


def scale() -> Scale:
    # Start-up: the whole `mockserver serve` with its defaults (reload on),
    # from the process's start to the first 200 of an API operation.
    startup = []
    for _ in range(3):
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(MOCKSERVER), "serve", "--port", str(port), "--no-access-log"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port, "/api2/clients/1", DAFTRA, process)
            startup.append(time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(10)
    # The list page: one mock with 100 clients, one with SCALE_RECORDS, runs alternating.
    with serve("mock") as small, serve("mock") as large:
        status, _ = request(small.port, "PUT", "/__mock/apis/daftra/fixtures", {"clients": clients(100)})
        assert status == 200, status
        idle = rss_mb(large.pid)[0]
        body = {"clients": clients(SCALE_RECORDS)}
        started = time.perf_counter()
        status, _ = request(large.port, "PUT", "/__mock/apis/daftra/fixtures", body)
        load_s = time.perf_counter() - started
        assert status == 200, status
        del body
        small_runs, large_runs = [], []
        for round_number in range(ROUNDS):
            for server, runs in (
                [(small, small_runs), (large, large_runs)]
                if round_number % 2 == 0
                else [(large, large_runs), (small, small_runs)]
            ):
                runs.append(wrk(server.port, "daftra_list.lua"))
                records = 100 if server is small else SCALE_RECORDS
                print(
                    f"  list page            {records:<18} {runs[-1].rps:8.0f} req/s  p50 {runs[-1].p50_ms:6.2f} ms",
                    flush=True,
                )
        current, peak = rss_mb(large.pid)
    return Scale(startup, idle, current, peak, load_s, small_runs, large_runs)


# -- workers on the shared state ---------------------------------------------
@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free port, nothing saved; None when none is installed."""
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            if time.perf_counter() - started > 10:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def measure_workers() -> Pair | None:
    """The create on the shared state, 2 workers (`mock`) against 1 (`other`), alternating."""
    with redis_server() as url:
        if url is None:
            return None
        pair = Pair()
        with (
            serve("mock", ["--store", f"{url}/0", "--workers", "1"]) as one,
            serve("mock", ["--store", f"{url}/1", "--workers", "2"]) as two,
        ):
            time.sleep(2)  # the second worker may answer a moment after the first
            for round_number in range(ROUNDS):
                order = [(one, pair.other), (two, pair.mock)]
                for server, runs in order if round_number % 2 == 0 else order[::-1]:
                    prepare(server)
                    runs.append(wrk(server.port, "facturacion_create.lua", tag=f"9{round_number}{server.port}"))
                    print(f"  workers {1 if server is one else 2}  {runs[-1].rps:8.0f} req/s", flush=True)
        return pair


# -- chart -------------------------------------------------------------------
def chart(pairs: dict[str, Pair]) -> None:
    """results.png: requests/s (mock and baseline) and the mock's p99 per workload."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib (pip install '.[bench]'): no chart", flush=True)
        return
    names = [w.name.replace("_", " ") for w in WORKLOADS]
    mock = [Pair._rps(pairs[w.name].mock) for w in WORKLOADS]
    base = [Pair._rps(pairs[w.name].other) for w in WORKLOADS]
    p50 = [statistics.median(r.p50_ms for r in pairs[w.name].mock) for w in WORKLOADS]
    p99 = [statistics.median(r.p99_ms for r in pairs[w.name].mock) for w in WORKLOADS]
    figure, (rate, tail) = plt.subplots(1, 2, figsize=(12, 4.5))
    x = range(len(names))
    rate.bar([i - 0.2 for i in x], base, 0.4, label="bare app (same stack)", color="#bbbbbb")
    rate.bar([i + 0.2 for i in x], mock, 0.4, label="mock", color="#3a6ea5")
    rate.set_ylabel("requests/s")
    rate.set_title(f"Throughput, {CONNECTIONS} connections")
    rate.legend()
    tail.bar([i - 0.2 for i in x], p50, 0.4, label="p50", color="#9ecae1")
    tail.bar([i + 0.2 for i in x], p99, 0.4, label="p99", color="#d95f02")
    tail.set_ylabel("ms")
    tail.set_title("Mock latency")
    tail.legend()
    for axis in (rate, tail):
        axis.set_xticks(list(x))
        axis.set_xticklabels(names, rotation=30, ha="right")
    figure.tight_layout()
    figure.savefig(CHART, dpi=100)
    plt.close(figure)


# -- profile -----------------------------------------------------------------
def profile(workloads: list[Workload]) -> str:
    """py-spy's view of the mock under each workload: where the time goes, by function."""
    py_spy = Path(PYTHON).with_name("py-spy")
    if not py_spy.exists():
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    lines = [
        f"Sampled with py-spy {subprocess.run([str(py_spy), '--version'], capture_output=True, text=True).stdout.split()[-1]}"
        f" at 250 Hz for {DURATION} s per workload on `mockserver serve`, "
        f'{datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}. "Own" is time in the function itself, '
        '"with callees" includes what it calls; both are shares of all samples of the server\'s main thread.',
        "",
    ]
    with serve("mock") as mock:
        for workload in workloads:
            prepare(mock)
            with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
                spy = subprocess.Popen(
                    [
                        str(py_spy),
                        "record",
                        "--pid",
                        str(mock.pid),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--output",
                        raw.name,
                        "--duration",
                        str(DURATION),
                        "--nonblocking",
                        "--full-filenames",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                wrk(mock.port, workload.script)
                spy.wait(30)
                lines += [f"### {workload.title}", "", *top_costs(Path(raw.name).read_text()), ""]
    return "\n".join(lines)


def top_costs(collapsed: str, count: int = 12) -> list[str]:
    """The functions with the most samples, from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack:
            continue
        n = int(samples)
        total += n
        frames = [_frame(frame) for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    if not total:
        return ["(no samples)"]
    areas: dict[str, int] = {}
    for name, n in own.items():
        areas[_area(name)] = areas.get(_area(name), 0) + n
    rows = [
        "Own time by area: "
        + ", ".join(
            f"{area} {100 * n / total:.0f}%"
            for area, n in sorted(areas.items(), key=lambda item: -item[1])
            if n / total >= 0.01
        ),
        "",
        "| Function | Own | With callees |",
        "|---|---:|---:|",
    ]
    for name, n in sorted(own.items(), key=lambda item: -item[1])[:count]:
        rows.append(f"| `{name}` | {100 * n / total:.1f}% | {100 * inclusive[name] / total:.1f}% |")
    return rows


def _area(function: str) -> str:
    """The package a function belongs to; the mock's own modules one by one."""
    parts = function.split(".")
    return ".".join(parts[:3]) if parts[0] == "mockserver" else parts[0]


def _frame(frame: str) -> str:
    """`function (path/to/module.py:line)` -> `module.function`, short enough for a table."""
    name, _, where = frame.partition(" (")
    module = where.split(":")[0]
    parts = Path(module).parts
    if "site-packages" in parts:
        module = ".".join(parts[parts.index("site-packages") + 1 :])
    elif "mockserver" in parts:
        module = ".".join(parts[parts.index("mockserver") :])
    else:
        module = Path(module).name
    return f"{module.removesuffix('.py')}.{name}"


# -- report ------------------------------------------------------------------
def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def verdict(holds: bool, detail: str) -> str:
    return f"holds ({detail})" if holds else f"**misses** ({detail})"


def fmt_rps(runs: list[Run]) -> str:
    return f"{sum(r.requests for r in runs) / sum(r.seconds for r in runs):,.0f}"


def fmt_p(runs: list[Run], attr: str) -> str:
    return f"{statistics.median(getattr(r, attr) for r in runs):.1f}"


def report(
    pairs: dict[str, Pair],
    peers: dict[str, Pair] | None,
    scaled: Scale,
    alone: list[Run],
    workers: Pair | None,
    loads: list[tuple[float, float, float]],
    started: datetime.datetime,
) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (bench/run.py); every ratio compares figures measured in this same run.",
        "",
        f"- When: {started:%Y-%m-%d %H:%M} UTC, {ROUNDS} round(s) of {DURATION} s per target and workload",
        f"- Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}",
        "- Load average (1, 5, 15 min) at start / end: "
        f"{' '.join(f'{x:.2f}' for x in loads[0])} / {' '.join(f'{x:.2f}' for x in loads[-1])} "
        "(other work may share the machine)",
        f"- Driver: {wrk_version}, {THREADS} thread(s), {CONNECTIONS} connections, Lua scripts in bench/lua/",
        f"- Server: uvicorn {version('uvicorn')} with httptools {version('httptools')} and uvloop "
        f"{version('uvloop')}, exactly as `mockserver serve` runs it; access log off for both",
        f"- Python {platform.python_version()}, Starlette {version('starlette')}, orjson {version('orjson')}, "
        f"jsonschema {version('jsonschema')}",
        "- Baseline: bench/baseline.py, a bare Starlette app that reads and parses the JSON body and answers a fixed "
        "JSON document, driven by the same script right before or after the mock (the order flips every round)",
        "",
        "## Throughput and latency",
        "",
        "| Workload | Mock req/s | p50 ms | p99 ms | p99 ÷ p50 | Baseline req/s | Ratio | Target | Verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for workload in WORKLOADS:
        pair = pairs[workload.name]
        p50 = statistics.median(r.p50_ms for r in pair.mock)
        p99 = statistics.median(r.p99_ms for r in pair.mock)
        tail = p99 / p50 if p50 else float("inf")
        holds = pair.ratio >= workload.target and tail <= TAIL
        target = f"≥ {workload.target}×, p99 ≤ {TAIL}× p50"
        detail = f"{pair.ratio / workload.target:.2f} of the ratio asked; tail {tail:.1f}×"
        out.append(
            f"| {workload.title} | {fmt_rps(pair.mock)} | {p50:.1f} | {p99:.1f} | {tail:.1f} | "
            f"{fmt_rps(pair.other)} | {pair.ratio:.2f} | {target} | {verdict(holds, detail)} |"
        )
    problems = [
        f"{w.title}: {pairs[w.name].wrong_status} answers with another status than {w.status}"
        for w in WORKLOADS
        if pairs[w.name].wrong_status
    ]
    problems += [
        f"{w.title}: {sum(r.errors for r in pairs[w.name].mock)} socket errors or timeouts"
        for w in WORKLOADS
        if sum(r.errors for r in pairs[w.name].mock)
    ]
    out += [
        "",
        "Every mock answer had its workload's status (checked in the journal after each run)."
        if not problems
        else "Problems: " + "; ".join(problems) + ".",
    ]
    out += ["", "## Against Prism", ""]
    if peers:
        pair = peers["facturacion_create"]
        holds = pair.ratio >= PRISM_TIMES
        out += [
            f"Prism ({pair_names['prism']}) from npm, installed into a temporary folder, mocking "
            "specs/facturacion.yaml; the same script, alternating with the mock.",
            "",
            "| Workload | Mock req/s | Mock p99 ms | Prism req/s | Prism p50 ms | Prism p99 ms | Mock ÷ Prism | Target |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            f"| Facturación create client | {fmt_rps(pair.mock)} | {fmt_p(pair.mock, 'p99_ms')} | {fmt_rps(pair.other)} | "
            f"{fmt_p(pair.other, 'p50_ms')} | {fmt_p(pair.other, 'p99_ms')} | {pair.ratio:.1f} | "
            f"≥ {PRISM_TIMES}×: {verdict(holds, f'{pair.ratio / PRISM_TIMES:.2f} of the ratio asked')} |",
        ]
    else:
        out += ["Not measured in this run (`make bench PEERS=1` installs and measures Prism)."]
    small, large = Pair._rps(scaled.small), Pair._rps(scaled.large)
    small_p50, large_p50 = (
        statistics.median(r.p50_ms for r in scaled.small),
        statistics.median(r.p50_ms for r in scaled.large),
    )
    cost = small / large
    startup = statistics.median(scaled.startup_s)
    out += [
        "",
        "## Scale",
        "",
        "| Figure | Value | Target | Verdict |",
        "|---|---:|---|---|",
        f"| RSS with {SCALE_RECORDS:,} Daftra clients stored (loaded through `PUT /__mock/apis/daftra/fixtures`; "
        f"idle before: {scaled.rss_idle_mb:.0f} MB) | {scaled.rss_mb:.0f} MB | ≤ {RSS_LIMIT_MB} MB | "
        f"{verdict(scaled.rss_mb <= RSS_LIMIT_MB, f'{scaled.rss_mb / RSS_LIMIT_MB:.2f} of the limit')} |",
        f"| Peak RSS while loading them | {scaled.peak_rss_mb:.0f} MB | | |",
        f"| Loading them through the admin API | {scaled.load_s:.1f} s | | |",
        f"| Unfiltered list page (Daftra, 20 a page): 100 records | {small:,.0f} req/s, p50 {small_p50:.1f} ms | | |",
        f"| The same page with {SCALE_RECORDS:,} records | {large:,.0f} req/s, p50 {large_p50:.1f} ms | | |",
        f"| Cost of the page at {SCALE_RECORDS:,} ÷ at 100 (time per request) | {cost:.2f}× | ≤ {LIST_COST_LIMIT}× | "
        f"{verdict(cost <= LIST_COST_LIMIT, f'{cost / LIST_COST_LIMIT:.2f} of the limit')} |",
        f"| Process start to first 200 (`mockserver serve`, both specs; median of "
        f"{', '.join(f'{s:.2f}' for s in scaled.startup_s)} s) | {startup:.2f} s | ≤ {STARTUP_LIMIT_S:g} s | "
        f"{verdict(startup <= STARTUP_LIMIT_S, f'{startup / STARTUP_LIMIT_S:.2f} of the limit')} |",
    ]
    out += ["", "## One caller alone", ""]
    p99_alone = statistics.median(r.p99_ms for r in alone)
    out += [
        "The Facturación create with one connection (wrk -c1), right after the runs above.",
        "",
        "| Mock req/s | p50 ms | p99 ms | Target | Verdict |",
        "|---:|---:|---:|---|---|",
        f"| {fmt_rps(alone)} | {fmt_p(alone, 'p50_ms')} | {p99_alone:.2f} | p99 ≤ {ALONE_P99_MS:g} ms | "
        f"{verdict(p99_alone <= ALONE_P99_MS, f'{p99_alone / ALONE_P99_MS:.2f} of the limit')} |",
    ]
    out += ["", "## Workers on the shared state", ""]
    if workers is None:
        out += ["Not measured in this run: no redis-server (`make redis` installs it)."]
    else:
        gain = workers.ratio
        out += [
            "The Facturación create on `mockserver serve --store redis://…` with `--workers 1` and `--workers 2` "
            "(a redis-server of this run, one database each), alternating.",
            "",
            "| Workers | Mock req/s | p50 ms | p99 ms |",
            "|---:|---:|---:|---:|",
            f"| 1 | {fmt_rps(workers.other)} | {fmt_p(workers.other, 'p50_ms')} | {fmt_p(workers.other, 'p99_ms')} |",
            f"| 2 | {fmt_rps(workers.mock)} | {fmt_p(workers.mock, 'p50_ms')} | {fmt_p(workers.mock, 'p99_ms')} |",
            "",
            f"2 workers ÷ 1: {gain:.2f}× (target ≥ {WORKERS_GAIN}×: "
            f"{verdict(gain >= WORKERS_GAIN, f'{gain / WORKERS_GAIN:.2f} of the gain asked')}).",
        ]
    out += ["", f"![requests/s and p99 per workload]({CHART.name})" if CHART.exists() else ""]
    out += ["", "## What is in the way", ""]
    out += [NOTES.read_text().strip() if NOTES.exists() else "No notes yet (bench/notes.md)."]
    out += ["", "## Profile", ""]
    out += [
        PROFILE_NOTES.read_text().strip()
        if PROFILE_NOTES.exists()
        else "Not profiled yet (`make bench PROFILE=1` samples the mock under each workload with py-spy)."
    ]
    return "\n".join(out) + "\n"


pair_names: dict[str, str] = {}


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (make bench installs it: apt-get install wrk)")
    started = datetime.datetime.now(datetime.UTC)
    loads = [os.getloadavg()]
    print(f"bench: {ROUNDS} round(s) x {DURATION} s, {CONNECTIONS} connections, load {loads[0]}", flush=True)
    with serve("baseline") as baseline, serve("mock") as mock:
        pairs = measure(mock, baseline, WORKLOADS)
    peers = None
    if PEERS:
        with prism() as peer, serve("mock") as mock:
            pair_names["prism"] = peer.name
            peers = measure(mock, peer, [WORKLOADS[0]])
    print("one caller alone", flush=True)
    with serve("mock") as mock:
        prepare(mock)
        alone = [wrk(mock.port, "facturacion_create.lua", connections=1) for _ in range(ROUNDS)]
    print("workers on the shared state", flush=True)
    workers = measure_workers()
    print("scale", flush=True)
    scaled = scale()
    if PROFILE:
        print("profile", flush=True)
        PROFILE_NOTES.write_text(profile(WORKLOADS))
    loads.append(os.getloadavg())
    chart(pairs)
    RESULTS.write_text(report(pairs, peers, scaled, alone, workers, loads, started) + soak_section())
    print(f"wrote {RESULTS.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


def soak_section() -> str:
    """The last soak's figures (bench/soak.py), kept when the rest of the report is rewritten."""
    from soak import BEGIN, END

    text = RESULTS.read_text() if RESULTS.exists() else ""
    if BEGIN not in text:
        return ""
    return "\n" + text[text.index(BEGIN) : text.index(END) + len(END)] + "\n"


if __name__ == "__main__":
    main()
