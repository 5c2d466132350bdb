"""A batch result's files, and two results compared byte for byte (the population tests' one
copy of both)."""

from __future__ import annotations

from pathlib import Path


def files(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` by name: a result's outputs, or what is left in a folder."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def same_files(expected: Path, got: Path) -> dict[str, bytes]:
    """Asserts that both folders hold the same files with the same bytes, naming the first file
    that differs; returns the files."""
    want, have = files(expected), files(got)
    assert want.keys() == have.keys()
    for name in want:
        assert want[name] == have[name], name
    return want
