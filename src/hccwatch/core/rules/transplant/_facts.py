"""The facts every transplant criterion shares: tumour burden and the universal exclusions.

Read once per assessment, without touching a trace; each criterion then records them in
its own trace with :meth:`Burden.record` / :meth:`Exclusions.record`, so every finding
shows the facts it used and names the gaps itself.

When/Then (tumour counting, AASLD-2023; UNOS/OPTN):

- When a tumour is marked ``viable = false`` Then it is not counted (treatment necrosis).
- When a tumour's viability is unknown and a locoregional treatment (TACE, TARE, ablation,
  SBRT, radiotherapy) preceded the imaging (or the imaging date is unknown) Then the tumour
  is *possibly viable*: a criterion answers only if counting it and not counting it give the
  same answer, and otherwise names ``tumors[i].viable`` as missing.
- When every locoregional treatment came after the imaging Then the measured tumours are
  pre-treatment tumours and all count (with a note to re-image).
- When the tumour list is unknown, or was assessed after the evaluation date Then the
  burden is unknown.
- When a resection or transplant followed the imaging (or the imaging is undated) Then the
  tumours describe the treated disease, not current disease: the criteria are answered for
  that burden with a note, and the UNOS listing rules, which concern current lesions, treat
  the current burden as unknown (:meth:`Burden.current`).

This module is the transplant rules' private burden reader: it needs the viable/possibly
viable split and best/worst extents, which a plain count does not give.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue

__all__ = ["LOCOREGIONAL", "Burden", "Exclusions", "Extent", "read_burden", "read_exclusions"]

# Treatments after which AASLD/UNOS count only enhancing (viable) tumour.
LOCOREGIONAL = ("tace", "tare", "ablation", "sbrt", "radiotherapy")


@dataclass(frozen=True)
class Extent:
    """Number of nodules, largest and total diameter; ``inf`` stands for "no upper bound"."""

    nodules: float
    largest_cm: float
    total_cm: float


@dataclass(frozen=True)
class Burden:
    """The tumours a transplant criterion counts.

    ``sizes`` are the tumours that count for certain, ``possible`` those whose viability is
    unknown after locoregional treatment (None = size unknown in either).
    """

    known: bool
    sizes: tuple[float | None, ...] = ()
    possible: tuple[float | None, ...] = ()
    not_viable: int = 0
    gaps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    facts: JsonValue = None
    assessed_on: date | None = None
    uses_viability: bool = False
    removed: str | None = None

    def current(self) -> Burden:
        """This burden if it is current disease; unknown if the tumours were since removed."""
        if self.removed is None:
            return self
        return Burden(known=False, gaps=(f"tumors (current; the recorded ones predate the {self.removed})",))

    @property
    def exact(self) -> bool:
        return self.known and not self.possible and None not in self.sizes

    def extent(self, *, worst: bool) -> Extent:
        """The most favourable (``worst=False``) or least favourable burden the facts allow."""
        return self._extents[worst]

    @functools.cached_property
    def _extents(self) -> tuple[Extent, Extent]:
        # Every criterion asks for both, several times: computed once per burden.
        return self._extent(worst=False), self._extent(worst=True)

    def _extent(self, *, worst: bool) -> Extent:
        if not self.known:
            return Extent(math.inf, math.inf, math.inf) if worst else Extent(0, 0, 0)
        chosen = self.sizes + self.possible if worst else self.sizes
        unknown = math.inf if worst else 0.0
        sizes = [unknown if s is None else s for s in chosen]
        return Extent(len(sizes), max(sizes, default=0.0), math.fsum(sizes))

    def at_least(self, min_cm: float) -> Burden:
        """Only the tumours that may measure ``min_cm`` or more (OPTN counts lesions >= 1 cm)."""
        return Burden(
            known=self.known,
            sizes=tuple(s for s in self.sizes if s is None or s >= min_cm),
            possible=tuple(s for s in self.possible if s is None or s >= min_cm),
            not_viable=self.not_viable,
            gaps=self.gaps,
            notes=self.notes,
            facts=self.facts,
            assessed_on=self.assessed_on,
            uses_viability=self.uses_viability,
            removed=self.removed,
        )

    def exact_values(self) -> dict[str, JsonValue]:
        """Number, largest and total diameter when the facts fix them, else null."""
        best, worst = self.extent(worst=False), self.extent(worst=True)

        def same(a: float, b: float) -> float | None:
            return a if a == b else None

        n = same(best.nodules, worst.nodules)
        return {
            "nodules": None if n is None else int(n),
            "largest_cm": same(best.largest_cm, worst.largest_cm),
            "total_cm": same(best.total_cm, worst.total_cm),
        }

    def record(self, t: Trace) -> None:
        if self.known:
            t.used("tumors", self.facts, "cm", self.assessed_on)
        if self.uses_viability:
            t.cite("AASLD-2023")
        t.need(*self.gaps)
        for text in self.notes:
            t.note(text)

    def describe(self) -> str:
        """The burden in words, e.g. "3 nodules (3, 3, 3 cm; total 9 cm)"."""
        if not self.known:
            return "tumour burden unknown"
        parts = [_nodules(self.sizes)]
        if self.possible:
            parts.append(f"plus {_count(len(self.possible), 'treated nodule')} of unknown viability")
            parts[-1] += f" ({_sizes(self.possible)})"
        if self.not_viable:
            parts.append(f"{_count(self.not_viable, 'non-viable nodule')} not counted")
        return "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _sizes(sizes: tuple[float | None, ...]) -> str:
    return ", ".join("size unknown" if s is None else f"{s:g} cm" for s in sizes)


def _nodules(sizes: tuple[float | None, ...]) -> str:
    if not sizes:
        return "no viable nodule"
    single = len(sizes) == 1
    total = "" if single or None in sizes else f"; total {math.fsum(s for s in sizes if s is not None):g} cm"
    return f"{_count(len(sizes), 'nodule')} ({_sizes(sizes)}{total})"


def read_burden(ctx: Context) -> Burden:
    """The tumours that count on ``ctx.as_of`` (see the module docstring)."""
    rec = ctx.record
    if rec.tumors is None:
        return Burden(known=False, gaps=("tumors",))
    assessed = rec.tumors_assessed_on
    if assessed is not None and assessed > ctx.as_of:
        return Burden(
            known=False, gaps=(f"tumors (assessed {assessed.isoformat()}, after the evaluation date)",)
        )
    treatments = ctx.treatments(*LOCOREGIONAL)
    before = [tx for tx in treatments if assessed is None or tx.date <= assessed]
    sizes: list[float | None] = []
    possible: list[float | None] = []
    gaps: list[str] = []
    notes: list[str] = []
    not_viable = 0
    for i, tumour in enumerate(rec.tumors):
        if tumour.viable is False:
            not_viable += 1
            continue
        if tumour.size_cm is None:
            gaps.append(f"tumors[{i}].size_cm")
        if tumour.viable is None and before:
            possible.append(tumour.size_cm)
            gaps.append(f"tumors[{i}].viable")
        else:
            sizes.append(tumour.size_cm)
    if possible:
        notes.append(
            "Tumours without a viability assessment after locoregional treatment are counted only "
            "where counting them or not gives the same answer."
        )
    if treatments and not before:
        notes.append(
            f"The tumour measurements ({assessed.isoformat() if assessed else 'undated'}) predate the "
            f"locoregional treatment of {treatments[-1].date.isoformat()}; re-imaging would show the "
            "viable tumour that UNOS/AASLD count."
        )
    removal = [
        tx for tx in ctx.treatments("resection", "transplant") if assessed is None or tx.date >= assessed
    ]
    removed = None if not removal else f"{removal[-1].type} of {removal[-1].date.isoformat()}"
    if removed:
        notes.append(
            f"The recorded tumours predate the {removed}: these criteria describe that tumour burden "
            "(as for salvage transplantation), not current disease."
        )
    facts: JsonValue = [{"size_cm": t.size_cm, "viable": t.viable} for t in rec.tumors]
    return Burden(
        known=True,
        sizes=tuple(sizes),
        possible=tuple(possible),
        not_viable=not_viable,
        gaps=tuple(gaps),
        notes=tuple(notes),
        facts=facts,
        assessed_on=assessed,
        uses_viability=bool(not_viable or possible),
        removed=removed,
    )


@dataclass(frozen=True)
class Exclusions:
    """Absolute exclusions: which are present, which are unknown, and the facts read."""

    present: tuple[str, ...]
    unknown: tuple[str, ...]
    facts: tuple[tuple[str, JsonValue], ...]

    @property
    def state(self) -> bool | None:
        """True if any exclusion is present, False if all are known absent, else None."""
        if self.present:
            return True
        return None if self.unknown else False

    def record(self, t: Trace) -> None:
        for name, value in self.facts:
            t.used(name, value)
        t.need(*self.unknown)


# Record field -> how an explanation names it.
_UNIVERSAL = {
    "macrovascular_invasion": "macrovascular invasion",
    "extrahepatic_metastasis": "extrahepatic metastasis",
    "lymph_node_metastasis": "lymph-node metastasis",
}


def read_exclusions(ctx: Context, *, infiltrative: bool = False) -> Exclusions:
    """Macrovascular invasion and extrahepatic spread (and, for UNOS-DS, infiltrative growth)."""
    rec = ctx.record
    fields = dict(_UNIVERSAL)
    if infiltrative:
        fields["infiltrative"] = "infiltrative growth"
    present: list[str] = []
    unknown: list[str] = []
    facts: list[tuple[str, JsonValue]] = []
    for name, label in fields.items():
        value = getattr(rec, name)
        if value is None:
            unknown.append(name)
            continue
        facts.append((name, value))
        if value:
            present.append(label)
    sites = sorted({s.site for s in rec.metastatic_sites if s.date is None or s.date <= ctx.as_of})
    if sites:
        facts.append(("metastatic_sites", list(sites)))
        present.append(f"metastasis ({', '.join(s.replace('_', ' ') for s in sites)})")
    return Exclusions(present=tuple(present), unknown=tuple(unknown), facts=tuple(facts))
