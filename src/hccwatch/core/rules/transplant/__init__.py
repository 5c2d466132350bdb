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

import dataclasses

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import Knowledge
from hccwatch.core.memo import Memo
from hccwatch.core.rules.transplant._decide import Facts, read_facts
from hccwatch.core.rules.transplant.biology import afp_model, five_five_500, hangzhou, kyoto, metroticket_2
from hccwatch.core.rules.transplant.morphology import size_criterion, up_to_seven
from hccwatch.core.rules.transplant.unos import unos_afp_exception, unos_downstaging

__all__ = ["transplant_criteria"]


def transplant_criteria(ctx: Context) -> dict[str, Finding]:
    """Every transplant criterion for ``ctx.record`` on ``ctx.as_of``, keyed as in the contract."""
    facts = read_facts(ctx)
    size = _size_only(ctx, facts)
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


# The size-only criteria are a function of the shared facts and the knowledge base alone, and a
# population repeats a few burdens (every labs-only record has the same unknown one).
_SIZE_ONLY: Memo[tuple[Knowledge, dict[str, Finding]]] = Memo()


def _size_only(ctx: Context, facts: Facts) -> dict[str, Finding]:
    def compute() -> tuple[Knowledge, dict[str, Finding]]:
        found = {key: size_criterion(ctx, facts, key) for key in ("milan", "ucsf", "fudan", "asan")}
        return ctx.knowledge, {**found, "up_to_seven": up_to_seven(ctx, facts)}

    # repr names every field of the (immutable) facts; the knowledge base is told apart by
    # identity, checked on a hit because an id can be reused once its object is gone.
    knowledge, found = _SIZE_ONLY.get((id(ctx.knowledge), repr(facts)), compute)
    if knowledge is not ctx.knowledge:
        knowledge, found = compute()
    # Fresh value dicts: a caller may change what it receives.
    return {key: dataclasses.replace(f, values=dict(f.values)) for key, f in found.items()}
