"""Servers: installing what is missing, starting, watching and stopping them by PID.

Every process the harness starts is registered in :data:`STARTED`; :func:`stop_all` (called
from ``run.py``'s ``finally``, on Ctrl-C and on SIGTERM) ends each one by its own PID and those
of its children, never by name. Servers are pinned to core 0 and the load generator to core 1
with ``taskset`` when the machine has two cores or more.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ISSO_REQUIREMENTS = ("isso==0.14.0", "gunicorn==27.0.1")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

STARTED: list[Server] = []


class SetupError(RuntimeError):
    """Something the benchmark needs could not be installed or started."""


# -- cores -----------------------------------------------------------------------------------


def pinning() -> tuple[list[str], list[str], str]:
    """``taskset`` prefixes for the server and the load generator, and a note saying which."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) >= 2 and shutil.which("taskset"):
        server, client = str(cores[0]), str(cores[1])
        note = f"server pinned to core {server}, load generator to core {client} (taskset)"
        return ["taskset", "-c", server], ["taskset", "-c", client], note
    return [], [], f"not pinned: {len(cores)} core(s) available or no taskset"


# -- installing --------------------------------------------------------------------------------


def _apt_install(packages: Sequence[str], log: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log.open("ab") as out:
        for attempt in range(2):
            done = subprocess.run(
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=600,
            )
            if done.returncode == 0:
                return True
            if attempt == 0:  # maybe the package lists were never fetched on this machine
                subprocess.run(
                    ["apt-get", "update", "-q"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    timeout=600,
                )
    return False


def ensure_wrk(log: Path) -> str | None:
    found = shutil.which("wrk")
    if found is None and _apt_install(["wrk"], log):
        found = shutil.which("wrk")
    return found


def ensure_nginx(log: Path) -> str | None:
    def find() -> str | None:
        return shutil.which("nginx") or next(
            (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
        )

    found = find()
    if found is None and (_apt_install(["nginx-light"], log) or _apt_install(["nginx"], log)):
        found = find()
    return found


def ensure_isso(venv: Path, log: Path) -> Path:
    """Isso and gunicorn from PyPI in their own virtual environment (kept in bench/.cache);
    returns the venv's python."""
    python = venv / "bin" / "python"
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(ISSO_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    with log.open("ab") as out:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=300,
            )
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *ISSO_REQUIREMENTS],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=900,
        )
    if done.returncode != 0:
        raise SetupError(f"could not install {' '.join(ISSO_REQUIREMENTS)}; see {log}")
    marker.write_text(wanted)
    return python


def package_version(python: Path, name: str) -> str:
    done = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() or "unknown"


def tool_version(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError:
        return "unknown"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


# -- process tree accounting -------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (found through /proc, by parent PID)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes(pids: Sequence[int]) -> int:
    return sum(_status_kb(p, "VmRSS") for p in pids) * 1024


def hwm_bytes(pids: Sequence[int]) -> int:
    return sum(_status_kb(p, "VmHWM") for p in pids) * 1024


class PeakSampler:
    """Samples the summed RSS of a process tree every 50 ms while a workload runs."""

    def __init__(self, pids: Sequence[int], interval: float = 0.05) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak = rss_bytes(self.pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes(self.pids))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pids))


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One server process (and its children), started on a loopback port."""

    name: str
    argv: list[str]
    port: int
    log: Path
    health_path: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    known_pids: set[int] = field(default_factory=set)
    # A server without state worth keeping warm (Isso) is restarted rather than waited for
    # when a run leaves it a queue of abandoned requests.
    restartable: bool = False
    restarts: int = 0

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,  # Ctrl-C reaches the harness, which stops us by PID
            )
        STARTED.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(
                    f"{self.name} exited with {self.proc.returncode} at start:\n{self.log_tail()}"
                )
            if self.answers():
                if not self.owns_port():
                    raise SetupError(
                        f"port {self.port} is answered by a process that {self.name} did not "
                        "start (is a server left over from an earlier run?)"
                    )
                self.known_pids.update(self.pids())
                return
            time.sleep(0.1)
        raise SetupError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def restart(self, timeout: float = 60.0) -> None:
        """Kill (SIGKILL, by PID: what it was doing is being thrown away) and start again."""
        for pid in {*self.known_pids, *self.pids()}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)
        self.stop()
        self.known_pids = set()
        self.restarts += 1
        self.start(timeout)

    def answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", self.health_path)
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def owns_port(self) -> bool:
        """Whether the socket listening on our port belongs to the process we started (or
        one of its children): found through /proc/net/tcp's inode and our processes' fds."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == self.port:
                    inodes.add(f"socket:[{fields[9]}]")
        if not inodes:
            return True  # nothing to tell (no /proc/net): trust the answer
        for pid in self.pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return True
                except OSError:
                    continue
        return False

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        found = [self.proc.pid, *children_of(self.proc.pid)]
        self.known_pids.update(found)
        return found

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the server's PID, then SIGKILL to it and to every child PID seen."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.known_pids.update(self.pids())
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=grace)
        for pid in self.known_pids - {self.proc.pid}:
            if _stat(pid) is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        if self in STARTED:
            STARTED.remove(self)


def stop_all() -> None:
    for server in list(reversed(STARTED)):
        with contextlib.suppress(Exception):
            server.stop(grace=5.0)


@contextlib.contextmanager
def running(server: Server, timeout: float = 60.0) -> Iterator[Server]:
    try:
        server.start(timeout)
        yield server
    finally:
        server.stop()


def townhall_server(
    data_dir: Path, port: int, log: Path, pin: list[str], env: dict[str, str] | None = None
) -> Server:
    argv = [*pin, sys.executable, "-m", "townhall", "serve"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    return Server(
        name="townhall",
        argv=argv,
        port=port,
        log=log,
        health_path="/healthz",
        env={
            # No access log: Isso under gunicorn and nginx here keep none either.
            "TOWNHALL_LOG_LEVEL": "warning",
            # As behind a reverse proxy: each simulated reader has its own address.
            "TOWNHALL_TRUST_FORWARDED_FOR": "true",
            **(env or {}),
        },
    )


def isso_config(path: Path, db: Path, port: int, origin: str) -> None:
    path.write_text(
        f"""[general]
dbpath = {db}
host = {origin}
notify = stdout
gravatar = false

[moderation]
enabled = false

[server]
listen = http://127.0.0.1:{port}/
# as behind a reverse proxy: each simulated reader has its own address
trusted-proxies = 127.0.0.1

[guard]
# off, so that posting is not throttled (townhall's limits are relaxed the same way)
enabled = false
""",
        encoding="utf-8",
    )


def isso_server(
    venv: Path, config: Path, port: int, log: Path, pin: list[str], workers: int = 1
) -> Server:
    argv = [*pin, str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--preload", "isso.run"]
    return Server(
        name=f"isso ({workers} worker{'s' if workers > 1 else ''})",
        argv=argv,
        port=port,
        log=log,
        health_path="/config",
        env={"ISSO_SETTINGS": str(config)},
        restartable=True,
    )


def nginx_server(
    binary: str, root: Path, work: Path, port: int, log: Path, pin: list[str]
) -> Server:
    """nginx (one worker, as the other servers get one process) serving files from ``root``:
    ``/plain/*`` as they are, ``/gzip/*`` with ``Content-Encoding: gzip``; POSTs are answered
    with the file too (``error_page 405``), for the counts and posting ceilings."""
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ return 200 "ok"; }}
        location /plain/ {{ error_page 405 =200 $uri; }}
        location /gzip/ {{ add_header Content-Encoding gzip; error_page 405 =200 $uri; }}
    }}
}}
""",
        encoding="utf-8",
    )
    argv = [*pin, binary, "-p", str(work), "-c", str(conf)]
    return Server(name="nginx", argv=argv, port=port, log=log, health_path="/")


def snapshot(server: Server) -> dict[str, Any]:
    pids = server.pids()
    return {"pids": pids, "cpu": cpu_seconds(pids), "hwm": hwm_bytes(pids)}
