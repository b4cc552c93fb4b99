"""bench/run's driver: starts the servers, prepares sessions and tokens, runs every scenario in interleaved
rounds, and writes the results. bench/run installs and builds what this needs; see docs/performance.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import flows
import load as loadmod
import report
import scenarios as sc
from servers import (POSTGRES_ADMIN_URL, Nginx, Peer, Portcullis, Server, StartError, drop_postgres_database,
                     port_in_use)

PORTS = {"peer": 45320, "sqlite": 45319, "postgres": 45322, "nginx": 45321}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--portcullis", required=True, help="the portcullis binary")
    parser.add_argument("--argon2-rate", required=True, help="the argon2-rate binary")
    parser.add_argument("--peer-dir", required=True)
    parser.add_argument("--results", required=True, help="directory for the JSON, Markdown and SVG results")
    parser.add_argument("--mode", choices=["full", "smoke"], default="full")
    parser.add_argument("--profile", default="release")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--scenarios", default=",".join(s.id for s in sc.SCENARIOS))
    parser.add_argument("--sessions", type=int, default=0,
                        help="signed-in sessions the codes come from (default: one per connection, at most 64)")
    parser.add_argument("--harvest-factor", type=float, default=2.0,
                        help="pool size over what a round is expected to use (doubled after an exhausted round)")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, flush=True)


def measure_argon2(binary: str, seconds: int) -> dict:
    result = subprocess.run([binary, str(seconds)], capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise StartError(f"argon2-rate failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def prepare(server: Server, sessions: int, workdir: str) -> dict:
    """Signed-in sessions (alice, consent given), a userinfo token, and one client-credentials token of each
    format for the introspection scenarios; each checked once, so a broken setup fails before any round.

    Codes come from `sessions` sessions in turn, as from many users: node-oidc-provider's memory adapter keeps,
    for each grant (one per session and client), the list of its tokens and walks it at every token it saves,
    so with a single session the peer would slow down with every code of the run."""
    if isinstance(server, Nginx):
        return {}
    paths, secrets = server.paths, server.secrets
    client = sc.code_client(server)
    auth = flows.basic(client, secrets[client])
    cookies = os.path.join(workdir, f"cookies-{server.name.replace('/', '-')}")

    def sign_in() -> tuple:
        for attempt in range(3):
            try:
                return flows.sign_in(server.base, paths["authorization_endpoint"], client)
            except flows.FlowError as error:
                # A 503 when the disk stalls for a second (a shared machine): sign in again.
                if attempt == 2 or " 503" not in str(error):
                    raise
                time.sleep(2)
        raise AssertionError("unreachable")

    with open(cookies, "w") as out:
        for _ in range(sessions - 1):
            out.write(flows.cookie_value(sign_in()[0]) + "\n")
        http, code, verifier = sign_in()
        out.write(flows.cookie_value(http) + "\n")
    tokens = http.form_json(paths["token_endpoint"], {"grant_type": "authorization_code", "code": code,
                                                      "code_verifier": verifier, "redirect_uri": flows.REDIRECT_URI},
                            auth)
    if "refresh_token" not in tokens:
        raise StartError(f"{server.name}: a code redemption gave no refresh token: {sorted(tokens)}")
    status, _, body = http.request("GET", paths["userinfo_endpoint"],
                                   headers={"Authorization": f"Bearer {tokens['access_token']}"})
    if status != 200:
        raise StartError(f"{server.name}: userinfo answered {status}: {body[:200]!r}")
    cc_tokens = {}
    introspector = flows.basic("rs_dataEventRecordsApi", secrets["rs_dataEventRecordsApi"])
    for token_format in ("encrypted", "jwt", "reference"):
        plan = sc.plan(sc.Scenario(f"cc-{token_format}", ""), server, {})
        headers = dict(h.split(": ", 1) for h in plan.request.headers)
        fields = dict(urllib.parse.parse_qsl(plan.request.body))
        cc_tokens[token_format] = http.form_json(plan.request.path, fields, headers["Authorization"])["access_token"]
        if isinstance(server, Portcullis) or token_format == "reference":
            answer = http.form_json(paths["introspection_endpoint"], {"token": cc_tokens[token_format]},
                                    introspector)
            if answer.get("active") is not True:
                raise StartError(f"{server.name}: introspection of a {token_format} token: {answer}")
    return {"cookies": cookies, "userinfo_token": tokens["access_token"],
            "cc_tokens": cc_tokens}


def make_pool(kind: str, server: Server, prepared: dict, workdir: str, load: loadmod.Load, factor: float,
              expected_rate: float | None) -> tuple:
    """Codes (and, for "refresh", the refresh tokens their redemption gives) for one round; returns the file,
    the number of values and the seconds it took. With an expected rate, the pool is that rate × the round's
    duration × `factor`; without, codes are made for `factor` × the duration (an authorization answer costs less
    than a redemption)."""
    started = time.monotonic()
    base = os.path.join(workdir, f"pool-{server.name.replace('/', '-')}")
    pairs = base + "-pkce"
    if not os.path.exists(pairs):
        flows.write_pkce_pairs(pairs, 4096)
    client = sc.code_client(server)
    if expected_rate:
        count, seconds = math.ceil(expected_rate * load.duration * factor), load.duration * 10
    else:
        count, seconds = None, math.ceil(load.duration * factor)
    codes = loadmod.harvest_codes(server.base, server.paths["authorization_endpoint"], sc.authorize_query(client),
                                  prepared["cookies"], pairs, base + "-codes", seconds, count, load)
    if kind == "code":
        return base + "-codes", codes, time.monotonic() - started
    auth = flows.basic(client, server.secrets[client])
    tokens = loadmod.exchange_codes(server.base, server.paths["token_endpoint"], auth, base + "-codes",
                                    base + "-refresh", load)
    return base + "-refresh", tokens, time.monotonic() - started


def start(starting) -> None:
    """Starts a server, again when its port was taken: the bench's ports lie in Linux's ephemeral range
    (32768-60999), where any program's outgoing connection or test server on port 0 may hold one for a while."""
    for attempt in range(5):
        try:
            return starting()
        except StartError as error:
            if attempt == 4 or "in use" not in str(error):
                raise
            log(f"    a port is taken ({str(error).splitlines()[0][:120]}…); trying again in 3 s")
            time.sleep(3)


def run(args: argparse.Namespace, servers: list[Server], workdir: str) -> dict:
    base_load = loadmod.Load(args.connections, args.threads, args.duration)
    wanted = args.scenarios.split(",")
    chosen = [s for s in sc.SCENARIOS if s.id in wanted]
    if not chosen:
        raise SystemExit(f"no scenario among {args.scenarios}")

    log("==> argon2id limit (the provider's parameters, every core)")
    argon2 = measure_argon2(args.argon2_rate, max(1, min(args.duration, 5)))
    log(f"    {argon2['per_second']:.1f} checks/s on {argon2['threads']} threads ({argon2['params']})")

    log("==> starting the servers")
    peer = next(s for s in servers if isinstance(s, Peer))
    start(peer.start)
    log(f"    {peer.name} ready at {peer.base}")
    for server in servers:
        if isinstance(server, Portcullis):
            server.setup()
            start(server.start)
            log(f"    {server.name} ready at {server.base}")
    first = next(s for s in servers if isinstance(s, Portcullis))
    documents = {}
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks"):
        documents[path] = flows.Http(first.base).request("GET", path)[2]
    nginx = next(s for s in servers if isinstance(s, Nginx))
    start(lambda: nginx.start(documents))
    log(f"    {nginx.name} ready at {nginx.base}, serving {first.name}'s discovery and JWKS bytes")

    sessions = args.sessions or min(args.connections, 64)
    log(f"==> signing in ({sessions} sessions per provider) and preparing tokens")
    prepared = {server.name: prepare(server, sessions, workdir) for server in servers}

    results = []
    factors: dict[tuple[str, str], float] = {}
    pool_rates: dict[tuple[str, str], float] = {}  # the best rate of a pool scenario on a server so far
    for scenario in chosen:
        log(f"==> {scenario.id}: {scenario.title}")
        plans = {server.name: sc.plan(scenario, server, prepared[server.name]) for server in servers}
        load = dataclasses.replace(base_load, duration=max(args.duration, scenario.min_duration))
        rounds: dict[str, list[dict]] = {server.name: [] for server in servers}
        for number in range(1, args.rounds + 1):
            for server in servers:
                plan = plans[server.name]
                if isinstance(plan, str):
                    continue
                request, made = plan.request, None
                if plan.pool:
                    key = (scenario.id, server.name)
                    # Expected rate: this scenario's best so far; before it, twice the other pool scenario's.
                    seen = pool_rates.get(key) or 2 * max(
                        (rate for (sid, name), rate in pool_rates.items() if name == server.name), default=0.0)
                    request.pool, size, took = make_pool(plan.pool, server, prepared[server.name], workdir, load,
                                                         factors.setdefault(key, args.harvest_factor), seen or None)
                    made = {"size": size, "seconds": round(took, 1)}
                waited = loadmod.settle([pid for s in servers for pid in s.pids()])
                meter = loadmod.CpuMeter()
                mark = server.log_mark()
                meter.begin()
                outcome = loadmod.measure(server.base, request, load)
                outcome.update(meter.end(server.pids()), round=number, pool_made=made, settled_s=round(waited, 1),
                               logged_errors=server.logged_refusals(mark))
                if not server.alive():
                    raise StartError(f"{server.name} stopped during {scenario.id}:\n{server.tail_log()}")
                if plan.pool:
                    pool_rates[key] = max(pool_rates.get(key, 0.0), outcome["rate"])
                if outcome["exhausted"]:
                    factors[key] *= 2
                rounds[server.name].append(outcome)
                log(f"    round {number} {server.name:<22} {outcome['rate']:>9.1f} req/s  p50 "
                    f"{outcome['p50_ms']:7.2f} ms  p99 {outcome['p99_ms']:8.2f} ms  errors {outcome['errors']}"
                    + (f"  pool {made['size']}" if made else "")
                    + ("  POOL EXHAUSTED" if outcome["exhausted"] else "")
                    + "".join(f"  {code} ×{n}" for code, n in outcome["logged_errors"].items())
                    + f"  (cpu: server {outcome['server_cores']}, other {outcome['other_cores']})")
        for server in servers:
            plan = plans[server.name]
            entry = {"scenario": scenario.id, "title": scenario.title, "server": server.name}
            if isinstance(plan, str):
                if not isinstance(server, Nginx):
                    results.append(entry | {"na": plan})
                continue
            rss, hwm = server.memory()
            runs = rounds[server.name]
            results.append(entry | summarize(runs) | {"rss_kib": rss, "hwm_kib": hwm, "rounds": runs})
        if scenario.id == "password":
            results.append({"scenario": scenario.id, "title": scenario.title,
                            "server": f"argon2id limit ({argon2['threads']} threads)", "rate": argon2["per_second"],
                            "baseline": True})
    return {"argon2": argon2, "results": results}


def summarize(runs: list[dict]) -> dict:
    """Medians over the rounds; errors and exhausted pools are summed."""
    median = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    return {"rate": median("rate"), "p50_ms": median("p50_ms"), "p99_ms": median("p99_ms"),
            "errors": sum(r["errors"] for r in runs), "successes": sum(r["successes"] for r in runs),
            "exhausted_rounds": sum(r["exhausted"] for r in runs), "other_cores": max(r["other_cores"] for r in runs),
            "server_cores": median("server_cores"), "postgres_cores": median("postgres_cores"),
            "logged_errors": {code: sum(r["logged_errors"].get(code, 0) for r in runs)
                              for code in sorted({c for r in runs for c in r["logged_errors"]})}}


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    version = lambda argv: subprocess.run(argv, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PHYS_PAGES")
                                                                        * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
            "kernel": platform.release(), "node": version(["node", "--version"]),
            "wrk": version(["wrk", "-v"]).split(" [")[0], "nginx": subprocess.run(
                ["nginx", "-v"], capture_output=True, text=True).stderr.strip().removeprefix("nginx version: "),
            "postgres": version(["psql", POSTGRES_ADMIN_URL, "-Atc", "SHOW server_version"])}


def main() -> int:
    args = parse_args()
    # Before anything is recreated (the PostgreSQL database): a port in use is another run, or a server left over.
    busy = [f"{port} ({what})" for what, port in PORTS.items() if port_in_use(port)]
    if busy:
        print(f"bench: ports in use on 127.0.0.1: {', '.join(busy)}; is another run going on?", file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="portcullis-bench-")
    servers: list[Server] = [Peer("node-oidc-provider", PORTS["peer"], workdir, args.peer_dir)]
    for database in args.databases.split(","):
        servers.append(Portcullis(f"portcullis/{database}", PORTS[database], workdir, args.portcullis, database))
    servers.append(Nginx("nginx (static files)", PORTS["nginx"], workdir))
    # SIGTERM (CI's timeout) stops the servers as Ctrl+C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.time()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    failed = None
    try:
        outcome = run(args, servers, workdir)
    except (StartError, loadmod.LoadError, flows.FlowError) as error:
        failed = str(error)
    except KeyboardInterrupt:
        failed = "interrupted"
    finally:
        for server in servers:
            server.stop()
        if any(isinstance(s, Portcullis) and s.database == "postgres" and s.created for s in servers):
            drop_postgres_database()
        # The servers' output stays beside the results (git ignores it), for the errors the table counts.
        logs = os.path.join(args.results, "logs")
        shutil.rmtree(logs, ignore_errors=True)
        os.makedirs(logs)
        for server in servers:
            if os.path.exists(server.log_path):
                shutil.copy(server.log_path, logs)
    if failed:
        print(f"bench: {failed}\n(work directory kept: {workdir})", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    meta = {"mode": args.mode, "profile": args.profile, "rounds": args.rounds, "duration_s": args.duration,
            "connections": args.connections, "wrk_threads": args.threads, "started": time.strftime(
                "%Y-%m-%dT%H:%M:%S%z", time.localtime(started)), "elapsed_s": round(time.time() - started),
            "machine": machine(), "argon2": outcome["argon2"], "commit": commit}
    written = report.write(args.results, meta, outcome["results"])
    print(report.table(outcome["results"]))
    log(f"results: {', '.join(written)}")
    empty = [f"{r['scenario']} on {r['server']}" for r in outcome["results"]
             if "na" not in r and not r.get("baseline") and r["successes"] == 0]
    if empty:
        print(f"bench: not one successful request in {', '.join(empty)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
