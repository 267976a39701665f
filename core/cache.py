"""A tiny per-process TTL cache (tenants, module toggles, migration state).

Each worker keeps its own copy for at most ``ttl`` seconds, so a change made through another
worker is seen within that time; changes made through this worker invalidate at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        self.put(key, value)
        return value

    def holds(self, key: Hashable) -> bool:
        """Whether ``key`` has a live entry."""
        entry = self._entries.get(key)
        return entry is not None and entry[0] > time.monotonic()

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` (read by the caller some other way) as ``get_or_load`` would."""
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()  # crude but bounded; entries reload on demand
                self._entries[key] = (time.monotonic() + self.ttl, value)

    def invalidate(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
