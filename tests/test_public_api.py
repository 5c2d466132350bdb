"""The public API is deliberate: __all__ is sorted, complete, and every name resolves."""

from __future__ import annotations

import inspect

import hccwatch


def test_all_is_sorted_and_unique() -> None:
    assert list(hccwatch.__all__) == sorted(set(hccwatch.__all__))


def test_every_public_name_resolves() -> None:
    for name in hccwatch.__all__:
        assert getattr(hccwatch, name) is not None


def test_no_undeclared_public_names() -> None:
    public = {
        n for n in dir(hccwatch) if not n.startswith("_") and not inspect.ismodule(getattr(hccwatch, n))
    }
    assert public <= set(hccwatch.__all__), public - set(hccwatch.__all__)


def test_the_contract_names_are_exported() -> None:
    for name in ("assess", "PatientRecord", "Assessment"):
        assert name in hccwatch.__all__
