"""Bounded caches for layout, measuring and drawing: two generations of a plain dict.

Every word, unit and mask of a document is looked up once per occurrence, so a
hit must be one dictionary lookup; an LRU's bookkeeping on every hit cost more
than it saved. Instead entries go into the current generation until it holds
`limit` worth of them; it then becomes the older generation and a new one
starts, and an entry found in the older one moves up. Frequent entries
survive, rare ones are dropped with their generation, and memory stays
bounded by two generations.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, TypeVar

MISSING = object()  # `current.get(key, MISSING)`: entries may be None
Value = TypeVar("Value")


class Generations(Generic[Value]):
    """Look up `current` directly (the hot path); on a miss, `fill` the entry."""

    def __init__(self, limit: int, cost: Callable[[Value], int] | None = None):
        self.limit = limit
        self.cost = cost  # what an entry counts against `limit` (default 1)
        self.current: dict[Hashable, Value] = {}
        self._older: dict[Hashable, Value] = {}
        self._used = 0

    def fill(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The entry for a key missing from `current`: moved up from the older generation, or made.

        `current` may be a new dictionary afterwards: callers holding it re-read it.
        """
        value = self._older.get(key, MISSING)
        if value is MISSING:
            value = make()
        if self._used >= self.limit:
            self._older, self.current, self._used = self.current, {}, 0
        self.current[key] = value
        self._used += 1 if self.cost is None else self.cost(value)
        return value

    def __len__(self) -> int:
        return len(self.current) + len(self._older)
