"""The servers under test: Portcullis (set up with its own CLI), node-oidc-provider, and nginx as the baseline.

Each runs as a child process of the bench on 127.0.0.1, with its output in the run's work directory, and is
stopped (SIGTERM, then SIGKILL) by the bench however the run ends.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from flows import REDIRECT_URI

POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
POSTGRES_BENCH_DB = "portcullis_bench"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StartError(Exception):
    pass


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process, in KiB; (0, 0) once it is gone."""
    values = {"VmRSS": 0, "VmHWM": 0}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


class Server:
    """One server process. `name` is what the tables call it."""

    def __init__(self, name: str, port: int, workdir: str):
        self.name = name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(workdir, f"{name.replace('/', '-')}.log")
        self.paths: dict[str, str] = {}

    def _spawn(self, argv: list[str], env: dict | None = None, cwd: str | None = None) -> None:
        if port_in_use(self.port):
            raise StartError(f"{self.name}: port {self.port} is already in use on 127.0.0.1 (another bench running?)")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)

    def _wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise StartError(f"{self.name} exited with status {self.proc.returncode} while starting; "
                                 f"its output:\n{self.tail_log()}")
            try:
                status, _ = get(self.base + path, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise StartError(f"{self.name} did not answer {path} within {timeout:.0f} s; its output:\n{self.tail_log()}")

    def tail_log(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no output)"

    def log_mark(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def logged_refusals(self, mark: int) -> dict[str, int]:
        """The OAuth error codes the server logged since `mark`, counted (Portcullis logs every refused or failed
        request with its code; node-oidc-provider and nginx log none)."""
        counts: dict[str, int] = {}
        try:
            with open(self.log_path, "rb") as log:
                log.seek(mark)
                text = ANSI.sub("", log.read().decode(errors="replace"))
        except OSError:
            return counts
        for line in text.splitlines():
            if "request failed" in line or "request refused" in line:
                match = re.search(r"\bcode=(\S+)", line)
                if match:
                    counts[match.group(1)] = counts.get(match.group(1), 0) + 1
        return counts

    def discover(self) -> None:
        status, body = get(self.base + "/.well-known/openid-configuration")
        if status != 200:
            raise StartError(f"{self.name}: discovery answered {status}")
        document = json.loads(body)
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "introspection_endpoint",
                    "jwks_uri"):
            self.paths[key] = document[key].removeprefix(self.base)

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def memory(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB, summed over the server's processes."""
        rss = hwm = 0
        for pid in self.pids():
            r, h = memory_kib(pid)
            rss, hwm = rss + r, hwm + h
        return rss, hwm

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class Portcullis(Server):
    """Portcullis in demo mode (alice, consoleclient, rs_dataEventRecordsApi) plus the bench's clients, in a
    fresh data directory (SQLite) or a freshly created database (PostgreSQL)."""

    FORMATS = ("encrypted", "jwt", "reference")

    def __init__(self, name: str, port: int, workdir: str, binary: str, database: str):
        super().__init__(name, port, workdir)
        self.binary = binary
        self.database = database
        self.data_dir = os.path.join(workdir, name.replace("/", "-") + "-data")
        self.env = dict(os.environ)
        self.global_args = ["--data-dir", self.data_dir]
        self.secrets: dict[str, str] = {}

    def cli(self, *args: str) -> str:
        result = subprocess.run([self.binary, *self.global_args, *args], env=self.env, capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            raise StartError(f"{self.name}: portcullis {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result.stdout

    def add_client(self, client_id: str, *args: str) -> None:
        for attempt in range(3):
            try:
                out = self.cli("clients", "add", client_id, "--type", "confidential", *args)
                break
            except StartError as error:
                # A disk that stalls for a few seconds (a shared machine) makes the CLI give up after its
                # statement timeout, perhaps after the row was written: remove it, and try again.
                if attempt == 2 or "unavailable" not in str(error):
                    raise
                subprocess.run([self.binary, *self.global_args, "clients", "remove", client_id], env=self.env,
                               capture_output=True, timeout=120)
                time.sleep(2)
        match = re.search(r"^client_secret: (\S+)$", out, re.MULTILINE)
        if not match:
            raise StartError(f"{self.name}: no secret printed for {client_id}")
        self.secrets[client_id] = match.group(1)

    def setup(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        os.makedirs(self.data_dir)
        if self.database == "postgres":
            recreate_postgres_database()
            url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_BENCH_DB
            self.global_args += ["--database-url", url]
            # As in production: PostgreSQL keeps the private keys sealed with a master key.
            self.env["PORTCULLIS_MASTER_KEY"] = self.cli("keys", "master-key").strip()
        for attempt in range(3):
            try:
                self.cli("seed", "--demo")  # adds only what is missing: safe to repeat after a stall
                break
            except StartError as error:
                if attempt == 2 or "unavailable" not in str(error):
                    raise
                time.sleep(2)
        self.secrets["consoleclient"] = "consoleClientSecret"
        self.secrets["rs_dataEventRecordsApi"] = "dataEventRecordsSecret"
        for token_format in self.FORMATS:
            self.add_client(f"bench-cc-{token_format}", "--grant", "client-credentials", "--scope",
                            "dataEventRecords", "--access-token-format", token_format)
        # Like the demo's SPA, but confidential: explicit consent (asked once), the default token format.
        scopes = [arg for scope in ("openid", "profile", "email", "roles", "offline_access", "dataEventRecords")
                  for arg in ("--scope", scope)]
        self.add_client("bench-code", "--consent", "explicit", "--redirect-uri", REDIRECT_URI,
                        "--grant", "authorization-code", "--grant", "refresh-token", *scopes)

    def start(self) -> None:
        self._spawn([self.binary, *self.global_args, "serve", "--demo", "--listen", f"127.0.0.1:{self.port}",
                     "--issuer", self.base], env=self.env)
        self._wait_ready("/healthz")
        self.discover()


class Peer(Server):
    """node-oidc-provider, configured in bench/peer/server.js."""

    def __init__(self, name: str, port: int, workdir: str, peer_dir: str):
        super().__init__(name, port, workdir)
        self.peer_dir = peer_dir
        self.secrets = {"consoleclient": "consoleClientSecret", "rs_dataEventRecordsApi": "dataEventRecordsSecret"}

    def start(self) -> None:
        env = dict(os.environ, NODE_ENV="production")
        self._spawn(["node", "server.js", str(self.port)], env=env, cwd=self.peer_dir)
        self._wait_ready("/.well-known/openid-configuration")
        self.discover()


class Nginx(Server):
    """nginx serving files: the bytes Portcullis answers for discovery and the JWKS, as the ceiling of what any
    server can do for those two documents on this machine."""

    def __init__(self, name: str, port: int, workdir: str):
        super().__init__(name, port, workdir)
        self.root = os.path.join(workdir, "nginx")

    def start(self, documents: dict[str, bytes]) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(os.path.join(self.root, "html"))
        os.makedirs(os.path.join(self.root, "temp"))
        locations = []
        for index, (path, body) in enumerate(sorted(documents.items())):
            file = os.path.join(self.root, "html", f"document-{index}.json")
            with open(file, "wb") as out:
                out.write(body)
            locations.append(f"location = {path} {{ default_type application/json; alias {file}; }}")
        # Workers run as nobody when started by root: they must be able to read the files.
        for directory, _, files in os.walk(self.root):
            os.chmod(directory, 0o755)
            for file in files:
                os.chmod(os.path.join(directory, file), 0o644)
        os.chmod(self.workdir, 0o755)
        temp = os.path.join(self.root, "temp")
        config = f"""
worker_processes auto;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port};
    {chr(10).join(locations)}
  }}
}}
"""
        conf = os.path.join(self.root, "nginx.conf")
        with open(conf, "w") as out:
            out.write(config)
        self._spawn(["nginx", "-p", self.root, "-c", conf, "-g", "daemon off;"])
        self._wait_ready(sorted(documents)[0])

    def pids(self) -> list[int]:
        # The master and its workers.
        if not self.proc:
            return []
        try:
            children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
        except OSError:
            children = []
        return [self.proc.pid, *map(int, children)]


def recreate_postgres_database() -> None:
    """Drops and creates the bench's database, so every run starts from an empty one."""
    for statement in (f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)",
                      f"CREATE DATABASE {POSTGRES_BENCH_DB}"):
        result = subprocess.run(["psql", POSTGRES_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise StartError(f"PostgreSQL: {statement} failed: {result.stderr.strip()}")


def drop_postgres_database() -> None:
    subprocess.run(["psql", POSTGRES_ADMIN_URL, "-q", "-c",
                    f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)"], capture_output=True, timeout=60)
