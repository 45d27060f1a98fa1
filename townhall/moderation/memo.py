"""A memo bounded by what it holds, not by how many entries: the checks remember derived forms
of recent comments (folded text, 4-gram sets) so each is computed once, but a comment can be
20 characters or 5,000, and an entry-count bound lets a few long comments fill the memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WeightedMemo(Generic[K, V]):
    """``memo(key)`` returns ``compute(key)``, remembered until the total ``weigh(value)`` of
    what is remembered passes ``budget``; then the least recently used go first."""

    def __init__(
        self, compute: Callable[[K], V], weigh: Callable[[K, V], int], budget: int
    ) -> None:
        self.compute = compute
        self.weigh = weigh
        self.budget = budget
        self.weight = 0
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit[0]
        value = self.compute(key)
        weight = self.weigh(key, value)
        if weight > self.budget:
            return value  # too big to keep at all
        with self._lock:
            if key not in self._data:
                self._data[key] = (value, weight)
                self.weight += weight
                while self.weight > self.budget:
                    _, (_, dropped) = self._data.popitem(last=False)
                    self.weight -= dropped
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.weight = 0

    def cache_clear(self) -> None:  # the name functools' caches use (benchmarks call it)
        self.clear()
