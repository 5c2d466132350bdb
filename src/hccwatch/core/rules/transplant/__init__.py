"""Liver-transplant selection criteria for HCC: one finding per criterion.

When the engine assesses a record Then every criterion below is answered within / beyond /
cannot determine (``values["within"]``; ``values["eligible"]`` for the UNOS rules), with the
numbers it used, from the same shared facts:

- tumour burden: viable tumours only after locoregional therapy (AASLD-2023); see ``_facts``;
- universal exclusions: macrovascular invasion, extrahepatic spread including lymph-node
  metastasis (MAZZAFERRO-1996, AASLD-2023) make every criterion "beyond"; an unknown
  exclusion leaves "within" undetermined;
- unknown inputs: answered only when no value of the unknown could change the answer
  (see ``_decide``), and still listed as missing.

Keys: milan, ucsf, up_to_seven, metroticket_2, afp_model, hangzhou, fudan, kyoto,
five_five_500, asan (``morphology`` and ``biology``), unos_downstaging and
unos_afp_exception (``unos``). Rule ids are ``transplant.<key>``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import Knowledge
from hccwatch.core.memo import MAX_FINDINGS, Memo
from hccwatch.core.rules.transplant._decide import Facts, read_facts
from hccwatch.core.rules.transplant.biology import afp_model, five_five_500, hangzhou, kyoto, metroticket_2
from hccwatch.core.rules.transplant.morphology import size_criterion, up_to_seven
from hccwatch.core.rules.transplant.unos import unos_afp_exception, unos_downstaging

__all__ = ["transplant_criteria"]


def transplant_criteria(ctx: Context) -> dict[str, Finding]:
    """Every transplant criterion for ``ctx.record`` on ``ctx.as_of``, keyed as in the contract."""
    facts = read_facts(ctx)
    rec = ctx.record
    if rec.treatments or any(lab.test in _MARKERS for lab in rec.labs):
        # A patient's own marker history and treatments seldom recur: a memo would only cost.
        return _all(ctx, facts, copy=True)
    # Everything else the criteria read besides the shared facts: grade, infiltrative growth
    # (UNOS downstaging), DCP, the date. The same few combinations recur across a population.
    reads = (ctx.as_of, rec.histologic_grade, rec.infiltrative, rec.dcp_mau_ml)
    found = _memoised(_ALL, ctx, (repr(facts), reads), lambda: _all(ctx, facts, copy=False))
    return {key: f.detached() for key, f in found.items()}


def _all(ctx: Context, facts: Facts, *, copy: bool) -> dict[str, Finding]:
    if copy:
        # Computed, not memoised: this record's treatments date its tumour notes and inputs, so
        # its facts seldom recur, and a memo would only add their key and a copy of each finding.
        size = _size_only(ctx, facts)
    else:
        size = _memoised(_SIZE_ONLY, ctx, repr(facts), lambda: _size_only(ctx, facts))
    return {
        "milan": size["milan"],
        "ucsf": size["ucsf"],
        "up_to_seven": size["up_to_seven"],
        "metroticket_2": metroticket_2(ctx, facts),
        "afp_model": afp_model(ctx, facts),
        "hangzhou": hangzhou(ctx, facts),
        "fudan": size["fudan"],
        "kyoto": kyoto(ctx, facts),
        "five_five_500": five_five_500(ctx, facts),
        "asan": size["asan"],
        "unos_downstaging": unos_downstaging(ctx, facts),
        "unos_afp_exception": unos_afp_exception(ctx, facts),
    }


def _size_only(ctx: Context, facts: Facts) -> dict[str, Finding]:
    found = {key: size_criterion(ctx, facts, key) for key in ("milan", "ucsf", "fudan", "asan")}
    return {**found, "up_to_seven": up_to_seven(ctx, facts)}


# The criteria are pure in what they read (the size-only ones in the shared facts alone), so
# their findings are kept per combination, in two memos (whole and size-only).
_MARKERS = frozenset({"afp", "dcp"})
_Memo = Memo[tuple[Knowledge, dict[str, Finding]]]
_ALL: _Memo = Memo(MAX_FINDINGS)
_SIZE_ONLY: _Memo = Memo(MAX_FINDINGS)


def _memoised(
    memo: _Memo, ctx: Context, key: Hashable, compute: Callable[[], dict[str, Finding]]
) -> dict[str, Finding]:
    """``compute()``, or what it gave before for ``key`` with the same knowledge base.

    ``key`` is built from ``repr`` of immutable facts (it names every field) and frozen record
    parts. The knowledge base is told apart by identity, checked on a hit because an id can be
    reused once its object is gone.
    """
    # The record's stated assumptions join the key: a finding shows the assumptions it used.
    full_key = (id(ctx.knowledge), key, ctx.record.assumptions)
    knowledge, found = memo.get(full_key, lambda: (ctx.knowledge, compute()))
    return found if knowledge is ctx.knowledge else compute()
