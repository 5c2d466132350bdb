"""The bounded memo behind the staging resolver's cache of fact patterns."""

from __future__ import annotations

from hccwatch.core.memo import Memo, clear_all


def test_memo_computes_once_per_key() -> None:
    memo: Memo[int] = Memo()
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    assert memo.get("abc", lambda: compute("abc")) == 3
    assert memo.get("abc", lambda: compute("abc")) == 3
    assert calls == ["abc"]


def test_memo_is_bounded_and_drops_the_oldest() -> None:
    memo: Memo[int] = Memo(max_entries=2)
    for key in range(3):
        memo.get(key, lambda key=key: key)
    assert len(memo) == 2
    assert memo.get(0, lambda: -1) == -1  # 0 was dropped and is computed again
    memo.clear()
    assert len(memo) == 0


def test_an_unhashable_key_is_computed_and_not_stored() -> None:
    memo: Memo[int] = Memo()
    assert memo.get(([1, 2],), lambda: 7) == 7
    assert len(memo) == 0


def test_clear_all_empties_every_memo() -> None:
    memo: Memo[int] = Memo()
    memo.get("k", lambda: 1)
    clear_all()
    assert len(memo) == 0
