"""Start and stop the servers under test: Tenantry, Tenantry without RLS, the bare baseline.

All three run under the same gunicorn set-up: ``deploy/gunicorn.conf.py`` (sync workers,
``WEB_CONCURRENCY`` of them, cpu count + 1 by default) with two overrides for measuring:
a free loopback port, and ``--max-requests 0`` so that no worker is recycled (and re-imports
the app) in the middle of a measurement. The server's output goes to ``<workdir>/<name>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import naming

PROJECT_ROOT = Path(__file__).resolve().parent.parent

@contextlib.contextmanager
def checkout(ref: str, folder: Path) -> Iterator[Path]:
    """A detached git worktree of ``ref`` (for serving an older Tenantry side by side)."""
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(folder), ref],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=PROJECT_ROOT,
                       check=False, capture_output=True)

# WSGI entry points of the three servers.
TENANTRY = "core.wsgi:build_app()"
TENANTRY_NO_RLS = "bench.norls_app:build_app()"
BASELINE = "bench.baseline_app:build_app()"


class ServerError(RuntimeError):
    """A server did not come up."""


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the workers
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master), for profilers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    # Loopback http URL built here, never from input.
    request = urllib.request.Request(url + "/healthz",  # noqa: S310
                                     headers={"Host": naming.PLATFORM_HOST})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}; see {log_path}:\n"
                              + log_path.read_text()[-3000:])
        with (contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
              urllib.request.urlopen(request, timeout=2) as response):  # noqa: S310
            if response.status == 200:
                return
        time.sleep(0.2)
    raise ServerError(f"server not ready within {timeout:.0f} s; see {log_path}")


def start_gunicorn(name: str, app: str, env: dict[str, str], workdir: Path, *, workers: int,
                   timeout: float = 120, root: Path = PROJECT_ROOT,
                   extra_args: tuple[str, ...] = ()) -> Server:
    """Start ``app`` under gunicorn with the deploy config; wait for ``/healthz``.

    ``root`` is the checkout to serve (another one for ``--compare REF``); ``extra_args`` are
    gunicorn options that override the config (e.g. another worker class)."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    args = [sys.executable, "-m", "gunicorn", "-c", str(root / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--max-requests", "0",
            *extra_args, app]
    full_env = {**os.environ, **env, "PYTHONPATH": str(root),
                "WEB_CONCURRENCY": str(workers)}
    with log_path.open("w") as log:
        process = subprocess.Popen(args, cwd=root, env=full_env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path, timeout)
    except BaseException:
        Server(name, url, process, log_path).stop()
        raise
    return Server(name, url, process, log_path)


@contextlib.contextmanager
def running(name: str, app: str, env: dict[str, str], workdir: Path, *,
            workers: int, root: Path = PROJECT_ROOT,
            extra_args: tuple[str, ...] = ()) -> Iterator[Server]:
    server = start_gunicorn(name, app, env, workdir, workers=workers, root=root,
                            extra_args=extra_args)
    try:
        yield server
    finally:
        server.stop()
