"""wrk runs: one measured round, the harvests that fill pools of one-time values, and where the CPU went."""

from __future__ import annotations

import glob
import json
import math
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

from servers import POSTGRES_BENCH_DB

LUA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lua")


@dataclass
class Load:
    connections: int
    threads: int
    duration: int
    timeout: int = 10  # seconds; a slower answer is a wrk timeout (an error), not a latency


@dataclass
class Request:
    """What one scenario sends to one server."""
    method: str
    path: str
    body: str | None = None
    headers: list[str] = field(default_factory=list)
    pool: str | None = None  # None: one fixed request (static.lua); else a file of one-time values (pool.lua)


class LoadError(Exception):
    pass


def wrk(url: str, script: str, env: dict, load: Load, duration: int | None = None) -> dict:
    """Runs wrk against `url` and returns the BENCH_JSON line of common.lua's done()."""
    duration = duration or load.duration
    argv = ["wrk", "-t", str(load.threads), "-c", str(load.connections), "-d", f"{duration}s",
            "--timeout", f"{load.timeout}s", "-s", os.path.join(LUA_DIR, script), url]
    env = dict(os.environ, BENCH_LUA_DIR=LUA_DIR, BENCH_THREADS=str(load.threads), **env)
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 120)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise LoadError(f"wrk gave no result (status {result.returncode}): {result.stderr.strip()[:500]}")


def measure(base: str, request: Request, load: Load) -> dict:
    """One measured round. Only responses below 400 count as successes; the rate is successes per second of
    the time wrk actually ran (shorter than the duration when a pool ran out)."""
    env = {"BENCH_METHOD": request.method, "BENCH_HEADERS": "\n".join(request.headers)}
    if request.body is not None:
        env["BENCH_BODY"] = request.body
    if request.pool:
        # pool.lua builds each request from the templates; wrk's URL only names the server.
        env.update(BENCH_POOL=request.pool, BENCH_PATH=request.path)
        raw = wrk(base + "/", "pool.lua", env, load)
    else:
        # static.lua sends the path of wrk's URL.
        raw = wrk(base + request.path, "static.lua", env, load)
    errors = raw["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    successes = raw["requests"] - errors["status"]
    seconds = raw["duration_us"] / 1e6
    return {
        "rate": successes / seconds if seconds else 0.0,
        "successes": successes,
        "errors": errors["status"] + socket_errors,
        "non_2xx": errors["status"],
        "socket_errors": socket_errors,
        "seconds": round(seconds, 3),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "pool": raw["pool"] if request.pool else None,
        "exhausted": bool(request.pool) and raw["exhausted_threads"] > 0,
    }


def harvest_codes(base: str, authorize_path: str, query: str, cookies: str, pairs: str, out: str, seconds: int,
                  count: int | None, load: Load) -> int:
    """Authorization codes from signed-in sessions (`cookies`, a file of Cookie header values, used in turn), as
    fast as the server gives them, until there are about `count` (when given) or for `seconds`: one line
    "code<TAB>verifier" each in `out`. `query` has {2} (the PKCE challenge) and {i} (the state, by which each
    answer is matched with its request's verifier)."""
    for stale in glob.glob(out + ".*"):
        os.remove(stale)
    env = {"BENCH_POOL": pairs, "BENCH_CYCLE": "1", "BENCH_METHOD": "GET", "BENCH_PATH": f"{authorize_path}?{query}",
           "BENCH_COOKIES": cookies, "BENCH_CAPTURE": "location", "BENCH_OUT": out}
    if count:
        env.update(BENCH_LIMIT=str(math.ceil(count / load.threads)), BENCH_MARKS=out + "-stopped")
        if os.path.exists(out + "-stopped"):
            os.remove(out + "-stopped")
    wrk(base + "/", "pool.lua", env, load, duration=max(1, seconds))
    return concatenate(out)


def exchange_codes(base: str, token_path: str, auth: str, codes: str, out: str, load: Load) -> int:
    """Redeems every code of `codes` and keeps the refresh tokens in `out`, one a line. The run ends when the
    codes run out."""
    for stale in glob.glob(out + ".*"):
        os.remove(stale)
    from flows import REDIRECT_URI
    env = {"BENCH_POOL": codes, "BENCH_METHOD": "POST", "BENCH_PATH": token_path,
           "BENCH_BODY": "grant_type=authorization_code&code={1}&code_verifier={2}&redirect_uri="
                         + REDIRECT_URI.replace(":", "%3A").replace("/", "%2F"),
           "BENCH_HEADERS": f"Authorization: {auth}", "BENCH_CAPTURE": "json:refresh_token", "BENCH_OUT": out}
    wrk(base + "/", "pool.lua", env, load, duration=600)
    return concatenate(out)


def concatenate(out: str) -> int:
    """Joins the per-thread capture files into `out`; returns the number of values."""
    count = 0
    with open(out, "w") as whole:
        for part in sorted(glob.glob(out + ".*")):
            with open(part) as lines:
                for line in lines:
                    if line.strip():
                        whole.write(line)
                        count += 1
            os.remove(part)
    # Values the server refused (wrk counts them in errors.status) were not captured: the pool is what was.
    return count


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                rest = stat.read().rsplit(")", 1)[1].split()
            total += (int(rest[11]) + int(rest[12])) / CpuMeter.TICKS
        except (OSError, IndexError, ValueError):
            pass
    return total


def settle(pids: list[int], limit: float = 15.0) -> float:
    """Waits until the servers are idle (under 5% of a core for 0.3 s): a server still finishing the work wrk
    left in flight (password checks run on in the background) would otherwise take CPU from the next round.
    Returns the seconds waited."""
    started = time.monotonic()
    previous = cpu_seconds(pids)
    while time.monotonic() - started < limit:
        time.sleep(0.3)
        now = cpu_seconds(pids)
        if now - previous < 0.015:
            break
        previous = now
    return time.monotonic() - started


class CpuMeter:
    """Where the machine's CPU time went during a round: the servers, wrk, PostgreSQL, the kernel's interrupt work
    (loopback networking), and everything else: other processes, and time the hypervisor gave to other machines
    (steal). Another build or test run on a shared machine shows up as "other"."""

    TICKS = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _stat() -> list[float]:
        # user nice system idle iowait irq softirq steal, in seconds
        with open("/proc/stat") as stat:
            return [int(v) / CpuMeter.TICKS for v in stat.readline().split()[1:9]]

    @staticmethod
    def _processes() -> dict[int, tuple[str, float]]:
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue
            comm = text[text.index("(") + 1:text.rindex(")")]
            rest = text[text.rindex(")") + 2:].split()
            found[int(entry)] = (comm, (int(rest[11]) + int(rest[12])) / CpuMeter.TICKS)
        return found

    @staticmethod
    def _bench_postgres(pid: int) -> bool:
        """The server's shared processes (checkpointer, WAL writer…) and the backends of the bench's database;
        not the backends of other databases (tests running on the same server)."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                title = cmdline.read().decode(errors="replace")
        except OSError:
            return False
        backend = re.search(r"\(\d+\)|\[local\]", title)
        return not backend or POSTGRES_BENCH_DB in title

    def begin(self) -> None:
        self.start_wall = time.monotonic()
        self.start_stat = self._stat()
        self.start_procs = self._processes()
        self.start_children = os.times()

    def end(self, server_pids: list[int]) -> dict:
        wall = time.monotonic() - self.start_wall
        stat = [now - then for now, then in zip(self._stat(), self.start_stat)]
        procs = self._processes()
        children = os.times()
        # wrk has exited by now: its CPU time is in this process's children times.
        wrk_cpu = (children.children_user - self.start_children.children_user
                   + children.children_system - self.start_children.children_system)
        server = postgres = 0.0
        for pid, (comm, cpu) in procs.items():
            delta = cpu - self.start_procs.get(pid, (comm, 0.0))[1]
            if pid in server_pids:
                server += delta
            elif comm.startswith("postgres") and self._bench_postgres(pid):
                postgres += delta
        processes = stat[0] + stat[1] + stat[2]
        other = max(0.0, processes - server - postgres - wrk_cpu) + stat[7]
        per_core = lambda seconds: round(seconds / wall, 2) if wall else 0.0  # noqa: E731
        return {"server_cores": per_core(server), "postgres_cores": per_core(postgres),
                "wrk_cores": per_core(wrk_cpu), "interrupt_cores": per_core(stat[5] + stat[6]),
                "steal_cores": per_core(stat[7]), "other_cores": per_core(other), "load1": os.getloadavg()[0]}
