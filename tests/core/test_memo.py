"""The bounded memo behind the staging resolver's cache of fact patterns."""

from __future__ import annotations

from hccwatch.core.memo import Memo


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
