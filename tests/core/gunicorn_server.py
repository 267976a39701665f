"""gunicorn with deploy/gunicorn.conf.py on the session's migrated database, for tests that
need real worker processes (metrics across workers, caches across workers), and the helpers to
steer requests to one worker: a held request keeps a sync worker busy, so the others serve."""

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
from pathlib import Path

from core.testing.app import (
    BOOTSTRAP_TOKEN,
    JWT_SECRET,
    PLATFORM_EMAIL,
    PLATFORM_HOST,
    PLATFORM_PASSWORD,
    ROOT_DOMAIN,
)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".tox" / "test" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(url: str, host: str = PLATFORM_HOST, method: str = "GET",
         headers: dict | None = None, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=body,  # noqa: S310 - http://
                                     headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def held_request(port: int) -> socket.socket:
    """A connection whose request is half sent: the worker that accepts it waits for the rest."""
    held = socket.create_connection(("127.0.0.1", port), timeout=20)
    held.sendall(f"GET /healthz HTTP/1.1\r\nHost: {PLATFORM_HOST}\r\n".encode())
    time.sleep(0.5)  # accepted by an idle worker by now
    return held


def release(held: socket.socket) -> int:
    with held:
        held.sendall(b"Connection: close\r\n\r\n")
        return int(held.makefile("rb").readline().split()[1])


def worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


@contextlib.contextmanager
def gunicorn(database, tmp_path: Path, workers: int = 2, **settings: str):
    """Serve ``core:create_app()`` with ``workers`` sync workers; yields (process, url)."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "PASSWORD_HASH_SLOT_DIR": os.environ["PASSWORD_HASH_SLOT_DIR"],  # the test kit's
        "TENANTRY_ENV": "test", "TENANTRY_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database.app_url, "MIGRATION_DATABASE_URL": database.owner_url,
        "JWT_SECRET": JWT_SECRET, "ROOT_DOMAIN": ROOT_DOMAIN,
        "PLATFORM_HOSTS": f"{PLATFORM_HOST},localhost", "RESERVED_SUBDOMAINS": "www,api",
        "FIRST_OWNER_EMAIL": PLATFORM_EMAIL, "FIRST_OWNER_PASSWORD": PLATFORM_PASSWORD,
        "BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN, "PASSWORD_HASH_PROFILE": "test",
        "APP_HOST": "127.0.0.1", "APP_PORT": str(port), "WEB_CONCURRENCY": str(workers),
        "DB_POOL_SIZE": "3", **settings,
    }
    command = [str(GUNICORN)] if GUNICORN.exists() else [sys.executable, "-m", "gunicorn"]
    process = subprocess.Popen(
        [*command, "-c", "deploy/gunicorn.conf.py", "core:create_app()"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http(url + "/healthz")[0] == 200 and len(worker_pids(process.pid)) == workers:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield process, url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
