"""Run the benchmark: the hub against the bare reference, same database, same workers,
same load generator and concurrency, alternately; print req/s, the ratio and the verdict.

    .venv/bin/python -m bench.run [--workers 1] [--connections 32] [--duration 10]
                                  [--rounds 3] [--scenarios child_by_id,children_list]

See bench/README.md for what each scenario measures and how to read the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from aphub.auth.keys import KeyRing
from aphub.auth.tokens import TokenService
from aphub.config import Settings
from bench import generate
from bench import webhooks as webhook_bench
from bench.scenarios import SCENARIOS, CheckFailed, Context, Prepared, Scenario, Target

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LUA = BENCH_DIR / "paths.lua"
RESULTS = BENCH_DIR / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def say(message: str = "") -> None:
    print(message, flush=True)


# --- the load generator ---------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed if missing (the bench machine is ours)."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "apt-get"]
    lists = Path("/var/lib/apt/lists")
    if not any(lists.glob("*Packages*")):
        say(f"wrk not found; running: {' '.join([*apt, 'update'])}")
        subprocess.run([*apt, "update"], check=True)
    say(f"wrk not found; running: {' '.join([*apt, 'install', '-y', 'wrk'])}")
    result = subprocess.run([*apt, "install", "-y", "wrk"], check=False)
    if result.returncode != 0:
        say("apt-get install failed; refreshing package lists and retrying")
        subprocess.run([*apt, "update"], check=True)
        subprocess.run([*apt, "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still not on PATH after installing it")
    return found


# --- CPU accounting from /proc (who used the two cores while wrk ran) ------------------


Table = dict[int, tuple[int, int, int]]


def _processes() -> Table:
    """pid -> (parent pid, CPU ticks it used, CPU ticks of its children it has reaped)."""
    table: Table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry)] = (
            int(fields[1]),
            int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]),
        )
    return table


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (all cores, everything running)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def tree_cpu(root: int | None, before: Table, after: Table) -> float:
    """CPU seconds `root` and its descendants used between two snapshots. Processes that
    exit in between (PostgreSQL backends of a churning pool) are counted through the
    reaped-children times of their parent."""
    if root is None or root not in after:
        return 0.0
    children: dict[int, list[int]] = {}
    for pid, (ppid, _own, _reaped) in after.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        _ppid, own, reaped = after[pid]
        was = before.get(pid)
        total += own - (was[1] if was else 0)
        if was:
            total += reaped - was[2]
        stack.extend(children.get(pid, []))
    return total / TICKS


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded server's postmaster (None for an external server: not measured)."""
    if os.environ.get("APHUB_DATABASE_URL"):
        return None
    pidfile = data_dir / "pgdata" / "postmaster.pid"
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- the servers ----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    app: str
    port: int
    env: dict[str, str]
    ready_path: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int) -> None:
        command = [
            sys.executable, "-m", "uvicorn", self.app, "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    break
                try:
                    if (await client.get(self.ready_path)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.name} did not become ready; its log ({self.log_path}):\n{tail}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        # as uvicorn binds: connections of a previous run in TIME_WAIT do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- one timed run ----------------------------------------------------------------------


@dataclass
class Run:
    side: str
    req_s: float
    requests: int
    errors: dict[str, int]
    latency_us: dict[str, float]
    server_cpu_ms: float  # per request
    postgres_cpu_ms: float  # per request
    wrk_cpu: float  # fraction of one core
    other_cpu: float  # cores busy with anything else on the machine (other users' work)
    audit_rows: int | None = None

    @property
    def failed_requests(self) -> int:
        return sum(self.errors.values())


@dataclass
class Options:
    wrk: str
    threads: int
    connections: int
    duration: int
    warmup: int
    rounds: int
    workers: int
    postmaster: int | None
    run_dir: Path


async def wrk(
    options: Options, server: Server, target: Target, paths_file: Path, seconds: int
) -> dict[str, Any]:
    command = [
        options.wrk, f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s",
        "--timeout", "5s", "-s", str(LUA),
    ]  # fmt: skip
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [server.base, "--", str(paths_file)]
    if target.method != "GET":
        body_file = paths_file.with_suffix(".body")
        body_file.write_text(target.body)
        command += [target.method, str(body_file), target.unique_header]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[len("BENCH ") :]))
    raise SystemExit(f"wrk failed ({process.returncode}):\n{text}")


async def count_audit(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM access_log_entries"))


async def timed(
    options: Options,
    server: Server,
    target: Target,
    paths_file: Path,
    db: asyncpg.Connection,
    audited: bool,
) -> Run:
    before_rows = await count_audit(db) if audited else 0
    assert server.process is not None
    before = _processes()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = busy_cpu()
    summary = await wrk(options, server, target, paths_file, options.duration)
    busy = busy_cpu() - busy_before
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = _processes()
    server_cpu = tree_cpu(server.process.pid, before, after)
    pg_cpu = tree_cpu(options.postmaster, before, after)
    seconds = summary["duration_us"] / 1e6
    requests = int(summary["requests"])
    per_request = 1000 / max(requests, 1)
    wrk_cpu = wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime
    run = Run(
        side=server.name,
        req_s=requests / seconds,
        requests=requests,
        errors=summary["errors"],
        latency_us=summary["latency_us"],
        server_cpu_ms=server_cpu * per_request,
        postgres_cpu_ms=pg_cpu * per_request,
        wrk_cpu=wrk_cpu / seconds,
        other_cpu=max(0.0, busy - server_cpu - pg_cpu - wrk_cpu) / seconds,
    )
    if audited:
        await asyncio.sleep(0.5)  # requests in flight when wrk stopped finish and commit
        run.audit_rows = await count_audit(db) - before_rows
    return run


# --- a scenario -------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: Scenario
    prepared: Prepared
    checks: list[str]
    runs: list[Run] = field(default_factory=list)

    def side(self, name: str) -> list[Run]:
        return [r for r in self.runs if r.side == name]

    def median(self, name: str) -> float:
        return statistics.median(r.req_s for r in self.side(name))

    @property
    def ratio(self) -> float:
        return self.median("hub") / self.median("reference")

    @property
    def errors(self) -> int:
        return sum(r.failed_requests for r in self.runs)

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERROR"
        if self.scenario.target is None:
            return "-"
        return "PASS" if self.ratio >= self.scenario.target else "FAIL"

    def audit_factor(self) -> float | None:
        hub = [r for r in self.side("hub") if r.audit_rows is not None]
        if not hub or not self.prepared.audit_rows_per_request:
            return None
        rows = sum(r.audit_rows or 0 for r in hub)
        expected = sum(r.requests for r in hub) * self.prepared.audit_rows_per_request
        return rows / expected


async def check_audit(ctx: Context, prepared: Prepared, requests: int = 10) -> str:
    """Every hub request audits each child it reads, no more, no fewer (counted per child
    in `access_log_entries`: a page is one access_log row per decision, naming its children)."""
    per = prepared.audit_rows_per_request
    if not per:
        return "endpoint not audited"
    before = await count_audit(ctx.db)
    for path in prepared.hub.paths[:requests]:
        response = await ctx.hub.get(path, headers=prepared.hub.headers)
        if response.status_code != 200:
            raise CheckFailed(f"hub GET {path}: {response.status_code} {response.text[:300]}")
    written = await count_audit(ctx.db) - before
    if written != requests * per:
        raise CheckFailed(
            f"{requests} hub requests audited {written} child reads, not {requests * per}"
        )
    return f"{requests} hub requests audited {written} child reads ({per} each)"


async def run_scenario(
    scenario: Scenario, ctx: Context, options: Options, hub: Server, reference: Server
) -> Outcome:
    say(f"\n== {scenario.name}: {scenario.description}")
    await ctx.db.execute("TRUNCATE access_log")  # the bench database's own audit, per scenario
    prepared = await scenario.prepare(ctx)
    for note in prepared.notes:
        say(f"  {note}")
    checks = [*await scenario.check(ctx, prepared), await check_audit(ctx, prepared)]
    for line in checks:
        say(f"  check: {line}")
    files = {}
    for side, target in (("hub", prepared.hub), ("reference", prepared.reference)):
        files[side] = options.run_dir / f"{scenario.name}.{side}.paths"
        files[side].write_text("\n".join(target.paths) + "\n")
    servers = {"hub": (hub, prepared.hub), "reference": (reference, prepared.reference)}
    outcome = Outcome(scenario, prepared, checks)
    if options.warmup:
        say(f"  warm-up: {options.warmup}s each")
        for side, (server, target) in servers.items():
            await wrk(options, server, target, files[side], options.warmup)
    for round_number in range(options.rounds):
        order = ("hub", "reference") if round_number % 2 == 0 else ("reference", "hub")
        for side in order:
            server, target = servers[side]
            audited = side == "hub" and prepared.audit_rows_per_request is not None
            run = await timed(options, server, target, files[side], ctx.db, audited)
            outcome.runs.append(run)
            audit = f", audited reads {run.audit_rows:,}" if run.audit_rows is not None else ""
            errors = f", {run.failed_requests} FAILED" if run.failed_requests else ""
            say(
                f"  round {round_number + 1} {side:<9} {run.req_s:8.1f} req/s "
                f"p50 {run.latency_us['p50'] / 1000:6.1f} ms  p99 "
                f"{run.latency_us['p99'] / 1000:6.1f} ms  ({run.requests:,} requests{audit}"
                f"{errors}; other load {run.other_cpu:.2f} cores)"
            )
    if scenario.after is not None:
        await asyncio.sleep(1.0)  # requests in flight when wrk stopped finish and commit
        for line in await scenario.after(ctx, prepared):
            say(f"  after: {line}")
            outcome.checks.append(line)
    return outcome


# --- report -----------------------------------------------------------------------------


def report(outcomes: list[Outcome], options: Options, bench: generate.BenchDatabase) -> None:
    say(
        f"\n== results: {bench.meta['children']:,} children, {options.workers} worker(s) each, "
        f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s, "
        f"median of {options.rounds} alternating rounds"
    )
    header = (
        f"{'scenario':<15}{'hub req/s':>11}{'ref req/s':>11}{'ratio':>8}{'target':>8}"
        f"{'result':>8}{'hub p50/p99 ms':>17}{'ref p50/p99 ms':>17}{'audit':>8}"
    )
    say(header)
    say("-" * len(header))
    for o in outcomes:
        hub_runs, ref_runs = o.side("hub"), o.side("reference")

        def lat(runs: list[Run]) -> str:
            p50 = statistics.median(r.latency_us["p50"] for r in runs) / 1000
            p99 = statistics.median(r.latency_us["p99"] for r in runs) / 1000
            return f"{p50:.1f}/{p99:.1f}"

        factor = o.audit_factor()
        audit = "-" if factor is None else f"x{factor:.2f}"
        target = "-" if o.scenario.target is None else f">={o.scenario.target:.2f}"
        say(
            f"{o.scenario.name:<15}{o.median('hub'):>11.1f}{o.median('reference'):>11.1f}"
            f"{o.ratio:>8.2f}{target:>8}{o.verdict:>8}"
            f"{lat(hub_runs):>17}{lat(ref_runs):>17}{audit:>8}"
        )
    say(
        "\nCPU per request (ms, median; server = uvicorn process tree, postgres = all its "
        "backends) and the load generator's share of one core:"
    )
    for o in outcomes:
        parts = []
        for side in ("hub", "reference"):
            runs = o.side(side)
            server = statistics.median(r.server_cpu_ms for r in runs)
            pg = statistics.median(r.postgres_cpu_ms for r in runs)
            wrk_cpu = max(r.wrk_cpu for r in runs)
            pg_text = f" + postgres {pg:.2f}" if options.postmaster else ""
            parts.append(f"{side} {server:.2f}{pg_text} (wrk <= {wrk_cpu:.0%})")
        say(f"  {o.scenario.name:<15}" + "; ".join(parts))
    say(
        "\nratio = hub median req/s / reference median req/s; audit = audited child reads "
        "/ (requests x children each): x1.00 means every read was audited."
    )
    other = max((r.other_cpu for o in outcomes for r in o.runs), default=0.0)
    if other > 0.2:
        say(
            f"warning: up to {other:.2f} cores were busy with other work during timed runs; "
            "the figures (the ratio less so: rounds alternate) are disturbed. Rerun when idle."
        )


def save(outcomes: list[Outcome], options: Options, bench: generate.BenchDatabase) -> Path:
    document = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": bench.meta,
        "options": {
            "workers": options.workers,
            "threads": options.threads,
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
            "cpus": os.cpu_count(),
        },
        "scenarios": [
            {
                "name": o.scenario.name,
                "target": o.scenario.target,
                "hub_req_s": o.median("hub"),
                "reference_req_s": o.median("reference"),
                "ratio": o.ratio,
                "verdict": o.verdict,
                "checks": o.checks,
                "runs": [r.__dict__ for r in o.runs],
            }
            for o in outcomes
        ],
    }
    path = options.run_dir / "results.json"
    path.write_text(json.dumps(document, indent=2))
    return path


async def check_connections(db: asyncpg.Connection, workers: int, pool: int) -> None:
    """Both servers at full pools must fit in the server's max_connections, or requests
    fail with 'too many clients' and the figures mean nothing."""
    limit = int(await db.fetchval("SHOW max_connections"))
    used = int(await db.fetchval("SELECT count(*) FROM pg_stat_activity"))
    needed = 2 * workers * 2 * pool + 2  # two servers, each worker's pool + overflow
    if needed > limit:
        raise SystemExit(
            f"{workers} worker(s) x 2 servers x {2 * pool} connections = {needed} > "
            f"max_connections {limit}: lower APHUB_DB_POOL_SIZE or --workers"
        )
    if needed + used > limit:
        say(f"warning: {used} connections already open; the pools may hit max_connections")


# --- main -------------------------------------------------------------------------------


def select(names: str | None) -> list[Scenario]:
    if not names:
        return list(SCENARIOS)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names.split(",") if n not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names.split(",")]


async def main_async(args: argparse.Namespace) -> int:
    scenarios = select(args.scenarios)
    for port in (args.hub_port, args.reference_port):
        if not port_free(port):
            raise SystemExit(
                f"port {port} is in use; choose others with --hub-port/--reference-port"
            )
    load = os.getloadavg()[0]
    if load > 0.5:
        say(f"warning: load average {load:.2f} before starting: other work will skew figures")
    wrk_path = ensure_wrk()
    data_dir = args.data_dir.resolve()
    bench = await generate.ensure(
        children=args.children,
        data_dir=data_dir,
        database=args.database,
        force=args.force_generate,
        log=lambda message: say(f"[generate] {message}"),
    )
    run_dir = RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    options = Options(
        wrk=wrk_path,
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        workers=args.workers,
        postmaster=postmaster_pid(data_dir),
        run_dir=run_dir,
    )
    # The key exists before any worker starts, so every worker loads the same one.
    keys = KeyRing(data_dir)
    settings = Settings(data_dir=data_dir, database_url=bench.url)
    tokens = TokenService(
        keys, issuer=settings.issuer, audience=settings.audience, ttl_seconds=3600
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("APHUB_")}
    pool = os.environ.get("APHUB_DB_POOL_SIZE", str(settings.db_pool_size))
    hub = Server(
        "hub",
        "aphub.main:create_app",
        args.hub_port,
        {
            **base_env,
            "APHUB_DATABASE_URL": bench.url,
            "APHUB_DATA_DIR": str(data_dir),
            # the shared rate limit counts every request (and reconciles every second) but,
            # this high, refuses none
            "APHUB_RATE_LIMIT_PER_MINUTE": os.environ.get("BENCH_RATE_LIMIT", "100000000"),
            # BENCH_METRICS=false (with BENCH_RATE_LIMIT=0) measures the hub without
            # either, so that the cost of both is the ratio between the two runs' ratios
            "APHUB_METRICS": os.environ.get("BENCH_METRICS", "true"),
            "APHUB_MIGRATE_ON_START": "false",
            "APHUB_LOG_LEVEL": "WARNING",
            # The scheduled jobs (attendance concerns) run in the web worker and, on a fresh
            # 100,000-child database with no marks, hold its event loop for minutes.
            "APHUB_JOBS": "false",
            "APHUB_DB_POOL_SIZE": pool,
            # --webhooks: the receiver is on loopback, over plain http
            "APHUB_WEBHOOK_ALLOWLIST": "127.0.0.1",
        },
        "/readyz",
        run_dir / "hub.log",
    )
    reference = Server(
        "reference",
        "bench.reference:create_app",
        args.reference_port,
        {**base_env, "BENCH_DATABASE_URL": bench.url, "APHUB_DB_POOL_SIZE": pool},
        "/healthz",
        run_dir / "reference.log",
    )
    say(
        f"starting hub (:{hub.port}) and reference (:{reference.port}), "
        f"{args.workers} worker(s) each, uvloop + httptools, pool {pool}+{pool}"
    )
    outcomes: list[Outcome] = []
    db = await asyncpg.connect(bench.url)
    try:
        await generate.register_bench_clients(db)
        await check_connections(db, args.workers, int(pool))
        for server in (hub, reference):
            server.start(args.workers)
        for server in (hub, reference):
            await server.wait_ready()
        async with (
            httpx.AsyncClient(base_url=hub.base, timeout=30) as hub_client,
            httpx.AsyncClient(base_url=reference.base, timeout=30) as ref_client,
        ):
            ctx = Context(bench, db, hub_client, ref_client, tokens)
            delivery = None
            if args.webhooks:
                headers = ctx.bearer(bench.provider_id, "provider")
                log_path = run_dir / "webhooks.log"
                delivery = await webhook_bench.start(hub_client, headers, hub.env, REPO, log_path)
                say(f"webhooks: every event type delivered to {delivery.receiver.url}")
            try:
                for scenario in scenarios:
                    outcomes.append(await run_scenario(scenario, ctx, options, hub, reference))
            finally:
                if delivery is not None:
                    for line in await webhook_bench.finish(delivery, hub_client, db):
                        say(line)
    except CheckFailed as failed:
        say(f"  CHECK FAILED: {failed}\n  (hub log: {hub.log_path})")
        return 2
    finally:
        await db.close()
        for server in (hub, reference):
            server.stop()
    report(outcomes, options, bench)
    say(f"\nfull results: {save(outcomes, options, bench)}")
    return 0 if all(o.verdict in ("PASS", "-") for o in outcomes) else 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", help="comma-separated (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, each server")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up, each side")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per side")
    parser.add_argument("--children", type=int, default=generate.DEFAULT_CHILDREN)
    parser.add_argument("--data-dir", type=Path, default=generate.DEFAULT_DATA_DIR)
    parser.add_argument("--database", default=generate.DEFAULT_DATABASE)
    parser.add_argument("--force-generate", action="store_true", help="regenerate the data")
    parser.add_argument("--hub-port", type=int, default=8701)
    parser.add_argument("--reference-port", type=int, default=8702)
    parser.add_argument(
        "--webhooks",
        action="store_true",
        help="with a subscription on every event type delivered to a loopback receiver; "
        "report the delivery lag",
    )
    args = parser.parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            target = "no target" if scenario.target is None else f"target >= {scenario.target}"
            say(f"{scenario.name:<15} ({target}) {scenario.description}")
        return
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
