"""Short-lived answers the API reuses under load: the status per scope, a bearer token's viewer.

An answer is reused for `ttl` seconds and only while this process has committed nothing
through the engine since it was computed, so the process that runs the checks (`goldwatch
serve`, `goldwatch demo`) answers with its newest data at once; another replica is at most
`ttl` seconds behind. Concurrent misses of one key compute once (the others await it), and
the computation runs in the thread pool, off the event loop.

    cache = AnswerCache[str, bytes](ttl=1.0, generation=lambda: counter.value)
    body = await cache.get(key, compute)      # compute() -> bytes | None; None is not kept
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

K = TypeVar("K")
V = TypeVar("V")
MAX_ENTRIES = 10_000  # past this, expired answers are swept on the next store


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    generation: int
    expires: float  # time.monotonic()


class AnswerCache(Generic[K, V]):
    def __init__(self, ttl: float, generation: Callable[[], int]) -> None:
        self.ttl = ttl
        self._generation = generation
        self._entries: dict[K, _Entry[V]] = {}
        self._locks: dict[K, asyncio.Lock] = {}

    def _fresh(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != self._generation() or entry.expires <= time.monotonic():
            return None
        return entry.value

    async def get(self, key: K, compute: Callable[[], V | None]) -> V | None:
        if self.ttl <= 0:
            return await run_in_threadpool(compute)
        value = self._fresh(key)
        if value is not None:
            return value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            value = self._fresh(key)
            if value is not None:
                return value
            # Read before computing: a commit during the computation makes its answer stale.
            generation = self._generation()
            value = await run_in_threadpool(compute)
            if value is not None:
                self._store(key, _Entry(value, generation, time.monotonic() + self.ttl))
            return value

    def _store(self, key: K, entry: _Entry[V]) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            now = time.monotonic()
            for stale in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[stale]
                self._locks.pop(stale, None)
        self._entries[key] = entry
