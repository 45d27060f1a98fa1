"""The checks' memo of derived text forms stays within its byte budget however long the
comments are, and forgets the least recently used first."""

from __future__ import annotations

from townhall.moderation.checks import duplicates
from townhall.moderation.memo import WeightedMemo


def test_memo_forgets_least_recently_used_when_over_budget() -> None:
    calls: list[str] = []

    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    memo: WeightedMemo[str, str] = WeightedMemo(compute, lambda k, v: len(k), budget=10)
    assert memo("aaaa") == "AAAA"
    assert memo("bbbb") == "BBBB"
    memo("aaaa")  # now the most recently used
    memo("cccc")  # 12 > 10: "bbbb" goes
    assert memo.weight <= 10
    memo("aaaa")
    memo("bbbb")
    assert calls == ["aaaa", "bbbb", "cccc", "bbbb"]


def test_memo_does_not_keep_what_exceeds_its_budget_alone() -> None:
    memo: WeightedMemo[str, int] = WeightedMemo(len, lambda k, v: v, budget=5)
    assert memo("x" * 50) == 50
    assert len(memo) == 0 and memo.weight == 0


def test_duplicate_check_memory_stays_bounded_with_long_comments() -> None:
    duplicates._shingles.clear()
    words = [f"word{i}" for i in range(900)]
    for n in range(300):  # 300 different comments of about 5,000 characters
        text = " ".join(words[n:] + words[:n])
        duplicates.similarity(text, text + " again")
    assert duplicates._shingles.weight <= duplicates._shingles.budget
    assert duplicates._key.weight <= duplicates._key.budget
    assert 0 < len(duplicates._shingles) < 300
