"""The bounded caches behind layout, measuring and drawing keep what recurs and stay bounded."""

from __future__ import annotations

from t2vid.caches import MISSING, Generations


def lookup(cache: Generations, key, made: list):
    value = cache.current.get(key, MISSING)
    if value is MISSING:
        value = cache.fill(key, lambda: made.append(key) or f"value of {key}")
    return value


def test_entries_are_made_once_while_they_recur_and_memory_stays_bounded():
    cache: Generations[str] = Generations(100)
    made: list = []
    for step in range(10_000):
        assert lookup(cache, "frequent", made) == "value of frequent"
        lookup(cache, ("rare", step), made)
        assert len(cache) <= 2 * 100 + 1
    assert made.count("frequent") == 1  # moved up from the older generation each time, never made again
    assert len(made) == 10_001


def test_cost_counts_against_the_limit_and_none_is_a_value():
    cache: Generations[bytes | None] = Generations(1_000, cost=lambda value: len(value or b""))
    made: list = []
    for step in range(50):
        cache.fill(step, lambda: b"x" * 100)
    assert len(cache.current) <= 11 and len(cache) <= 22
    assert lookup(Generations(10), "nothing", made) == "value of nothing"
    nones: Generations[None] = Generations(10)
    nones.fill("k", lambda: None)
    assert nones.current.get("k", MISSING) is None
