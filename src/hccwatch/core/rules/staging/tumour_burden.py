"""Tumour burden: number of nodules, largest diameter and total diameter, from ``record.tumors``.

When a rule needs the number of nodules (n), the largest diameter or the total tumour
diameter (TTD, the sum of every nodule's diameter):

- Then count the tumours in ``record.tumors``. With ``viable_only``, count only enhancing
  (viable) tumours. After locoregional therapy, AASLD/UNOS count viable tumour only
  (AASLD-2023).
- An unknown list (``null``) is unknown burden. So is a list assessed after the evaluation
  date, because facts dated after ``as_of`` are invisible. Neither is read as "no tumour".
- A nodule without a size makes the largest and total diameters unknown, but not the count.
  A nodule of unknown viability (``viable_only``) makes all three unknown.
- Every gap is named on the trace (``tumors``, ``tumors[2].size_cm``, ``tumors[0].viable``).

An empty list means no tumour: n = 0, largest = total = 0 cm.

Rules that must decide despite gaps use :meth:`TumourBurden.count_candidates` and
:meth:`TumourBurden.largest_candidates`. These give one representative value per category that
the rule's own inclusive cut-offs (``size <= cut-off``) distinguish. A stage that is the same for
every candidate cannot be changed by the gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.memo import once

__all__ = ["TumourBurden", "tumour_burden"]


@dataclass(frozen=True)
class TumourBurden:
    """What the record says about the tumours, with the gaps made explicit.

    ``sizes_cm`` holds the sizes of the counted nodules whose size is recorded.
    ``unknown_sizes`` is the number of counted nodules without a size. ``uncertain`` is the
    number of nodules of unknown viability, which may or may not count.
    """

    recorded: bool
    sizes_cm: tuple[float, ...] = ()
    unknown_sizes: int = 0
    uncertain: int = 0
    uncertain_sizes_cm: tuple[float | None, ...] = ()
    assessed_on: date | None = None

    # Derived counts are read dozens of times per staging: computed once (the burden is immutable).
    @once
    def n_min(self) -> int | None:
        return len(self.sizes_cm) + self.unknown_sizes if self.recorded else None

    @once
    def n_max(self) -> int | None:
        return None if self.n_min is None else self.n_min + self.uncertain

    @once
    def n(self) -> int | None:
        """The number of nodules, or None when the list or a nodule's viability is unknown."""
        return self.n_min if self.n_min == self.n_max else None

    @once
    def exact(self) -> bool:
        """Every counted nodule is known, with its size."""
        return self.n is not None and not self.unknown_sizes

    @once
    def largest_cm(self) -> float | None:
        return max(self.sizes_cm, default=0) if self.exact else None

    @once
    def total_cm(self) -> float | None:
        # Summed in decimal so 2.7 + 2.7 + 2.6 is 8.0, not 8.000000000000002, at an "<= 8 cm" cut-off.
        return float(sum((Decimal(repr(s)) for s in self.sizes_cm), Decimal(0))) if self.exact else None

    def count_candidates(self, cutoffs: Iterable[float]) -> tuple[int, ...]:
        """Representative counts: one per category that ``n <= cut-off`` (and solitary, n = 1) tells apart."""
        if self.n is not None:
            return (self.n,)
        cuts = {int(c) for c in cutoffs} | {1}
        low = self.n_min or 0
        high = self.n_max if self.n_max is not None else max(cuts | {low}) + 1
        return tuple(sorted({low, high} | {c for c in cuts if low < c < high}))

    def largest_candidates(self, cutoffs: Iterable[float]) -> tuple[float, ...]:
        """Representative largest diameters: one per category that ``size <= cut-off`` tells apart.

        With unknown sizes the largest can be anything from the largest known size upwards.
        A nodule of uncertain viability may add its own size. The candidates over-approximate
        the possibilities, so a stage that is the same for all of them is certain.
        """
        if self.largest_cm is not None:
            return (self.largest_cm,)
        cuts = sorted(set(cutoffs))
        floor: float = max(self.sizes_cm, default=0)
        out = {s for s in self.uncertain_sizes_cm if s is not None and s > floor}
        open_ended = not self.recorded or self.unknown_sizes or None in self.uncertain_sizes_cm
        if open_ended:
            out |= {c for c in cuts if c > floor} | {max([*cuts, floor]) + 1}
        # With no known size, the smallest cut-off already stands for "anything up to it".
        if self.sizes_cm or not open_ended:
            out.add(floor)
        return tuple(sorted(out))


def tumour_burden(ctx: Context, t: Trace, *, viable_only: bool = False) -> TumourBurden:
    """The recorded tumour burden on ``ctx.as_of``. Inputs and gaps are recorded on ``t``."""
    # Read once per assessment and replayed into each asking trace (BCLC, CNLC and AJCC all ask):
    # ``extend`` records what the reading recorded, in its order, as reading again would.
    key = ("staging.tumour_burden", viable_only)
    kept: tuple[TumourBurden, Trace] | None = ctx.shared.get(key)
    if kept is None:
        recorded = Trace(t.rule, ctx.knowledge)
        kept = ctx.shared[key] = (_read_burden(ctx, recorded, viable_only=viable_only), recorded)
    burden, recorded = kept
    t.extend(recorded)
    return burden


def _read_burden(ctx: Context, t: Trace, *, viable_only: bool) -> TumourBurden:
    record = ctx.record
    when = record.tumors_assessed_on
    if record.tumors is None:
        t.need("tumors")
        return TumourBurden(recorded=False)
    if when is not None and when > ctx.as_of:
        t.need(f"tumors (assessed on {when.isoformat()}, after the evaluation date)")
        return TumourBurden(recorded=False)
    if viable_only:
        t.cite("AASLD-2023")
    sizes: list[float] = []
    unknown = 0
    uncertain: list[float | None] = []
    for i, tumour in enumerate(record.tumors):
        if viable_only and tumour.viable is None:
            t.need(f"tumors[{i}].viable")
            uncertain.append(tumour.size_cm)
            continue
        if viable_only and not tumour.viable:
            continue
        if tumour.size_cm is None:
            t.need(f"tumors[{i}].size_cm")
            unknown += 1
        else:
            sizes.append(tumour.size_cm)
    burden = TumourBurden(
        recorded=True,
        sizes_cm=tuple(sorted(sizes, reverse=True)),
        unknown_sizes=unknown,
        uncertain=len(uncertain),
        uncertain_sizes_cm=tuple(uncertain),
        assessed_on=when,
    )
    _record_inputs(t, burden, "tumors.viable" if viable_only else "tumors")
    return burden


def _record_inputs(t: Trace, burden: TumourBurden, prefix: str) -> None:
    when = burden.assessed_on
    if burden.n is not None:
        t.used(f"{prefix}.count", burden.n, "nodules", when)
    t.used(f"{prefix}.sizes_cm", list(burden.sizes_cm), "cm", when)
    if burden.largest_cm is not None:
        t.used(f"{prefix}.largest_cm", burden.largest_cm, "cm", when)
    if burden.total_cm is not None:
        t.used(f"{prefix}.total_cm", burden.total_cm, "cm", when)
