"""A small, thread-safe memory of recent results, for work a page repeats on every view."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The last ``size`` results by key (least recently used ones are forgotten). Values must
    not be changed by callers: they are shared between requests."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._results: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()  # outside the lock: two threads may both compute, both get it right
        with self._lock:
            self._results[key] = value
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return value
