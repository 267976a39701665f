"""Password hashing with argon2id.

The ``standard`` profile is argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
The ``test`` profile (t=1, m=1 MiB) is still argon2id but cheap, so a test suite that creates
and logs in hundreds of users stays fast; configuration refuses it in production.
Verification reads the parameters from the stored hash, so hashes of either profile verify.
Every hash and verification runs in the bounded, idle-priority pool of core/auth/hashing_pool.py
(PASSWORD_HASH_SLOTS, PASSWORD_HASH_WAIT_SECONDS), so logins cannot starve other requests;
logins hold their slot from the start (``hashing_slot``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context, has_request_context

from core.auth.hashing_pool import pool_for

PROFILES = {
    "standard": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "test": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}
MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 accepts more; a cap stops multi-megabyte hashing requests


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher(**PROFILES[profile])


@cache
def _dummy_hash(profile: str) -> str:
    # Verified against when the user does not exist, so that timing does not reveal which
    # e-mails have accounts.
    return _hasher_for(profile).hash("tenantry-dummy-password")


def _profile() -> str:
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_PROFILE") or "standard"
    return "standard"


TEST_PROFILE_SLOTS = 16  # a test-profile hash takes ~1 ms and 1 MiB: nothing to protect


def default_slots(profile: str) -> int:
    """Standard profile: half the CPUs this process may run on, at least one -- with two cores
    hashing at idle priority another tenant's p50 still rose 39 % under a login flood, with one
    13 % (docs/benchmarks.md, "Login abuse")."""
    if profile == "test":
        return TEST_PROFILE_SLOTS
    return max(1, len(os.sched_getaffinity(0)) // 2)


COMMAND_WAIT_SECONDS = 600  # outside a request nobody else waits for this process


def _pool_and_wait():
    """The process's pool; how long to wait for a slot; whether the short queue applies (in a
    request, which holds a worker; not in a command)."""
    config, profile = current_app.config, _profile()
    pool = pool_for(config.get("PASSWORD_HASH_SLOTS") or default_slots(profile),
                    low_priority=profile == "standard",
                    folder=config.get("PASSWORD_HASH_SLOT_DIR") or None)
    if has_request_context():
        return pool, config["PASSWORD_HASH_WAIT_SECONDS"], True
    return pool, COMMAND_WAIT_SECONDS, False


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold a hashing slot around a login's whole check (throttle, user look-up, hash): taken
    first, so a login refused for want of a slot (503) has done no database work."""
    if not has_app_context():
        yield
        return
    pool, wait, queue_limited = _pool_and_wait()
    with pool.slot(wait, queue_limited):
        yield


def refuse_login_when_busy() -> None:
    """503 before a login does any other work when it would find no hashing slot (the
    request pipeline calls it first thing for a login POST; ``hashing_slot`` still decides)."""
    pool, wait, _ = _pool_and_wait()
    pool.refuse_if_busy(wait)


def _in_pool(work):
    """``work()`` in the hashing pool when an app is configured, else here (scripts, tests of
    this module without an app)."""
    if not has_app_context():
        return work()
    pool, wait, queue_limited = _pool_and_wait()
    return pool.run(work, wait, queue_limited)


def hash_password(password: str) -> str:
    hasher = _hasher_for(_profile())
    return _in_pool(lambda: hasher.hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    profile = _profile()
    hasher, stored = _hasher_for(profile), password_hash or _dummy_hash(profile)

    def verify() -> bool:
        try:
            return hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return _in_pool(verify) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher_for(_profile()).check_needs_rehash(password_hash)
