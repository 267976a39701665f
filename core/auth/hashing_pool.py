"""Password hashing that cannot starve the other requests: bounded and at idle priority.

An argon2id hash of the standard profile costs about 0.1-0.5 s of CPU and 64 MiB. Left alone,
four concurrent logins with unknown e-mails (each still verifies against a dummy hash, so timing
does not reveal accounts) took both cores of a two-core server from every other tenant. Here:

1. **Bounded**: at most ``PASSWORD_HASH_SLOTS`` hashes run at once across all worker processes
   that share ``PASSWORD_HASH_SLOT_DIR`` (by default the whole machine). A slot is an exclusive
   ``flock`` on one of N files there (the kernel releases it when a worker dies, so no slot
   leaks); inside one process a lock per slot keeps two threads from sharing an open file's
   lock. A login takes its slot *before* its database work
   (``hashing_slot`` in core/auth/passwords.py), and the request pipeline refuses a login
   POST that would find no slot before any other work (``refuse_if_busy``): a flood of
   logins answered 503 costs no query, no tenant look-up, no rate-limit count.
2. **No queue by default**: when every slot is busy, a login gets 503 with ``Retry-After`` at
   once. ``PASSWORD_HASH_WAIT_SECONDS`` lets as many requests as there are slots wait that long
   for one, but a sync gunicorn worker waiting for a slot is a worker no other tenant can use:
   with an unbounded queue, four flooding clients held all three workers and another tenant's
   p50 went from 9 ms to 276 ms; with one waiting place it still doubled; with none, and
   the refusal before the pipeline, it rose 8-11 % (docs/benchmarks.md, "Login abuse").
   Commands (no request) wait as long as it takes.
3. **Idle priority**: the hash runs in a thread scheduled ``SCHED_IDLE`` (Linux), so it gets
   the CPU only when no ordinary request wants it; argon2 releases the GIL while it works. The
   cheap ``test`` profile runs at normal priority: its hashes take a millisecond, and at idle
   priority a busy test machine would stretch them to seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from core.errors import DomainError

T = TypeVar("T")

_POLL_SECONDS = 0.005


class HashingBusy(DomainError):
    status = 503


def default_slot_folder() -> str:
    """Where the slot files live unless PASSWORD_HASH_SLOT_DIR says otherwise: one folder per
    machine and user, so all workers (and all deployments of the user) share the slots."""
    return os.path.join(tempfile.gettempdir(), f"tenantry-hash-slots-{os.getuid()}")


def lower_this_thread() -> None:
    """SCHED_IDLE for the calling thread (on Linux, pid 0 names the thread), else nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        # Not Linux: run at normal priority.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class _Places:
    """N machine-wide places: ``flock`` on N files (the kernel frees a dead worker's), and a
    lock per place so two threads of one process do not share an open file's lock."""

    def __init__(self, folder: str, name: str, count: int):
        self._files = [os.open(os.path.join(folder, f"{name}-{index}"),
                               os.O_RDWR | os.O_CREAT, 0o600) for index in range(count)]
        self._locks = [threading.Lock() for _ in range(count)]

    def take(self) -> int | None:
        """A free place's index, without waiting; None when all are taken."""
        for index, lock in enumerate(self._locks):
            if not lock.acquire(blocking=False):
                continue
            try:
                fcntl.flock(self._files[index], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.release()
                continue
            return index
        return None

    def give_back(self, index: int) -> None:
        fcntl.flock(self._files[index], fcntl.LOCK_UN)
        self._locks[index].release()


class HashingPool:
    """One per process (``pool_for``): the slots, the places to wait for one, and the threads
    hashes run in."""

    def __init__(self, slots: int, low_priority: bool, folder: str):
        self.slots = slots
        self.low_priority = low_priority
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self._slots = _Places(folder, "slot", slots)
        self._queue = _Places(folder, "queue", slots)
        self._held = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=slots, thread_name_prefix="tenantry-hash",
            initializer=lower_this_thread if low_priority else None)

    def _wait_for_slot(self, wait_seconds: float, queue_limited: bool) -> int:
        index = self._slots.take()
        if index is not None:
            return index
        place = None
        if queue_limited:
            place = self._queue.take() if wait_seconds > 0 else None
            if place is None:
                raise HashingBusy("the server is busy checking passwords; retry shortly",
                                  headers={"Retry-After": "1"})
        try:
            deadline = time.monotonic() + wait_seconds
            while index is None:
                if time.monotonic() >= deadline:
                    raise HashingBusy("the server is busy checking passwords; retry shortly",
                                      headers={"Retry-After": "1"})
                time.sleep(_POLL_SECONDS)
                index = self._slots.take()
            return index
        finally:
            if place is not None:
                self._queue.give_back(place)

    def refuse_if_busy(self, wait_seconds: float) -> None:
        """503 at once when a login arriving now would be refused: every slot busy and (with
        no waiting allowed, or every waiting place taken) nowhere to wait. A probe, not a
        reservation: the login takes its slot later, and may still be refused then."""
        index = self._slots.take()
        if index is not None:
            self._slots.give_back(index)
            return
        place = self._queue.take() if wait_seconds > 0 else None
        if place is None:
            raise HashingBusy("the server is busy checking passwords; retry shortly",
                              headers={"Retry-After": "1"})
        self._queue.give_back(place)

    @contextlib.contextmanager
    def slot(self, wait_seconds: float, queue_limited: bool = True) -> Iterator[None]:
        """Hold one slot (re-entrant in a thread). None free: wait up to ``wait_seconds`` if
        one of the ``slots`` waiting places is free, else 503 at once. ``queue_limited``
        False (a command, which holds no worker): wait without a place."""
        if getattr(self._held, "index", None) is not None:
            yield
            return
        index = self._wait_for_slot(wait_seconds, queue_limited)
        self._held.index = index
        try:
            yield
        finally:
            self._held.index = None
            self._slots.give_back(index)

    def run(self, work: Callable[[], T], wait_seconds: float,
            queue_limited: bool = True) -> T:
        """``work()`` in a hashing thread, holding a slot (the caller's, if it holds one)."""
        with self.slot(wait_seconds, queue_limited):
            return self._executor.submit(work).result()


_pools: dict[tuple[int, int, bool, str], HashingPool] = {}
_pools_lock = threading.Lock()


def pool_for(slots: int, low_priority: bool, folder: str | None = None) -> HashingPool:
    """This process's pool (a forked worker builds its own: threads do not survive a fork)."""
    folder = folder or default_slot_folder()
    key = (os.getpid(), slots, low_priority, folder)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = HashingPool(slots, low_priority, folder)
        return pool
