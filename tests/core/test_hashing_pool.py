"""The password-hashing pool (core/auth/hashing_pool.py): bounded across processes, at idle CPU
priority under the standard profile, and a clear 503 when every slot stays busy."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from core.auth import hashing_pool
from core.auth.hashing_pool import HashingBusy, pool_for
from core.testing.tenants import PASSWORD

_HOLD_SLOT = """
import fcntl, os, sys, time
fd = os.open(os.path.join(sys.argv[1], "slot-0"), os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def slot_held_elsewhere(tmp_path):
    """Another process (a second gunicorn worker, say) holding slot 0 of ``tmp_path``."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_SLOT, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.stdin.close()
    holder.wait(timeout=10)


def test_hashes_run_at_idle_priority_under_the_standard_profile(tmp_path):
    idle = pool_for(1, low_priority=True, folder=str(tmp_path))
    assert idle.run(lambda: os.sched_getscheduler(0), wait_seconds=5) == os.SCHED_IDLE
    normal = pool_for(1, low_priority=False, folder=str(tmp_path))
    assert normal.run(lambda: os.sched_getscheduler(0), wait_seconds=5) == os.SCHED_OTHER


def test_no_more_hashes_run_at_once_than_there_are_slots(tmp_path):
    pool = pool_for(2, low_priority=False, folder=str(tmp_path))
    running, peak, lock = [0], [0], threading.Lock()

    def work():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=pool.run, args=(work, 10, False)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_a_slot_held_by_another_process_counts(tmp_path, slot_held_elsewhere):
    pool = pool_for(1, low_priority=False, folder=str(tmp_path))
    with pytest.raises(HashingBusy) as refused:
        pool.run(lambda: "hashed", wait_seconds=0.2)
    assert refused.value.status == 503
    assert refused.value.headers == {"Retry-After": "1"}
    slot_held_elsewhere.stdin.close()
    slot_held_elsewhere.wait(timeout=10)
    assert pool.run(lambda: "hashed", wait_seconds=5) == "hashed"


def test_as_many_wait_as_there_are_slots_and_the_next_is_refused_at_once(
        tmp_path, slot_held_elsewhere):
    pool = pool_for(1, low_priority=False, folder=str(tmp_path))
    waiting = []
    waiter = threading.Thread(target=lambda: waiting.append(pool.run(lambda: "waited", 30)))
    waiter.start()
    time.sleep(0.3)  # the waiter holds the one waiting place now
    started = time.monotonic()
    with pytest.raises(HashingBusy):
        pool.run(lambda: "never", wait_seconds=30)
    assert time.monotonic() - started < 5  # refused at once, not after 30 s
    slot_held_elsewhere.stdin.close()
    slot_held_elsewhere.wait(timeout=10)
    waiter.join(timeout=30)
    assert waiting == ["waited"]


def test_a_command_waits_without_a_place_in_the_queue(tmp_path, slot_held_elsewhere):
    pool = pool_for(1, low_priority=False, folder=str(tmp_path))
    done = []
    waiter = threading.Thread(target=lambda: done.append(pool.run(lambda: "first", 30)))
    waiter.start()
    time.sleep(0.3)
    command = threading.Thread(target=lambda: done.append(
        pool.run(lambda: "command", 30, queue_limited=False)))
    command.start()
    time.sleep(0.3)
    slot_held_elsewhere.stdin.close()
    slot_held_elsewhere.wait(timeout=10)
    waiter.join(timeout=30)
    command.join(timeout=30)
    assert sorted(done) == ["command", "first"]


def test_each_test_process_hashes_in_its_own_slot_folder(app):
    """The test kit's own setting: servers a test starts inherit it, so logins of parallel test
    workers never take each other's slots (a production server's one slot on a two-core CI
    machine was taken by other workers' hashes, and its login answered 503)."""
    folder = os.environ["PASSWORD_HASH_SLOT_DIR"]
    assert app.config["PASSWORD_HASH_SLOT_DIR"] == folder
    assert folder != hashing_pool.default_slot_folder()
    assert os.path.basename(folder).startswith("tenantry-hash-slots-")


def test_a_login_answers_503_when_no_slot_frees_up(app, tenant, tmp_path, monkeypatch,
                                                    slot_held_elsewhere):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_SLOT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PASSWORD_HASH_SLOTS", 1)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_WAIT_SECONDS", 1)
    response = tenant.anonymous().post("/api/v1/auth/login", json={
        "email": tenant.users["owner"], "password": PASSWORD})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "busy" in response.json["message"]


def test_the_probe_refuses_only_when_a_login_would_find_nowhere_to_hash_or_wait(
        tmp_path, slot_held_elsewhere):
    pool = pool_for(1, low_priority=False, folder=str(tmp_path))
    with pytest.raises(HashingBusy) as refused:
        pool.refuse_if_busy(wait_seconds=0)
    assert refused.value.headers == {"Retry-After": "1"}
    pool.refuse_if_busy(wait_seconds=2)  # the waiting place is free: a login may wait
    waiter = threading.Thread(target=lambda: pool.run(lambda: None, 30))
    waiter.start()
    time.sleep(0.3)  # the waiter holds the one waiting place now
    with pytest.raises(HashingBusy):
        pool.refuse_if_busy(wait_seconds=2)
    slot_held_elsewhere.stdin.close()
    slot_held_elsewhere.wait(timeout=10)
    waiter.join(timeout=30)
    pool.refuse_if_busy(wait_seconds=0)  # the probe took nothing: the slot is free again
    assert pool.run(lambda: "hashed", wait_seconds=0) == "hashed"


LOGIN_POSTS = {
    "api login": ("tenant", "/api/v1/auth/login", "json"),
    "console login": ("tenant", "/login", "form"),
    "platform api login": ("platform", "/api/v1/platform/auth/login", "json"),
    "platform console login": ("platform", "/platform/login", "form"),
}


@pytest.mark.parametrize("route", LOGIN_POSTS)
def test_a_login_refused_for_want_of_a_slot_has_not_queried_anything(
        app, tenant, platform, route, tmp_path, monkeypatch, slot_held_elsewhere):
    """The pipeline refuses a login POST that would find no slot before the host's tenant,
    the scope, the rate-limit count or the throttle: a flood answered 503 costs no query
    (and with PASSWORD_HASH_WAIT_SECONDS=0 no waiting worker)."""
    from core.testing.console import ConsoleClient, form_token
    from tests.fixtures.statements import statements_sent

    monkeypatch.setitem(app.config, "PASSWORD_HASH_SLOT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PASSWORD_HASH_SLOTS", 1)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_WAIT_SECONDS", 0)
    host_kind, path, body = LOGIN_POSTS[route]
    host = tenant.host if host_kind == "tenant" else platform.host
    credentials = {"email": tenant.users["owner"], "password": "wrong-password"}
    answers = []
    if body == "json":
        client = tenant.anonymous() if host_kind == "tenant" else platform
        call = lambda: answers.append(client.post(path, json=credentials))  # noqa: E731
    else:
        console = ConsoleClient(app, host)
        form = console.get(path)  # the form (and its CSRF token) still opens
        assert form.status_code == 200
        token = form_token(form.get_data(as_text=True))
        call = lambda: answers.append(console.post(path, credentials, token=token))  # noqa: E731
    statements = statements_sent(app, call)
    response = answers[0]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "busy checking passwords" in response.get_data(as_text=True)
    assert statements == []
    slot_held_elsewhere.stdin.close()
    slot_held_elsewhere.wait(timeout=10)
    again = statements_sent(app, call)
    assert answers[1].status_code in (200, 401), answers[1].get_data(as_text=True)[:300]
    assert any("FROM users" in s or "FROM platform_users" in s for s in again)
