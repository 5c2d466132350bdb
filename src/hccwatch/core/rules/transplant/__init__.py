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

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.rules.transplant._decide import read_facts
from hccwatch.core.rules.transplant.biology import afp_model, five_five_500, hangzhou, kyoto, metroticket_2
from hccwatch.core.rules.transplant.morphology import size_criterion, up_to_seven
from hccwatch.core.rules.transplant.unos import unos_afp_exception, unos_downstaging

__all__ = ["transplant_criteria"]


def transplant_criteria(ctx: Context) -> dict[str, Finding]:
    """Every transplant criterion for ``ctx.record`` on ``ctx.as_of``, keyed as in the contract."""
    facts = read_facts(ctx)
    return {
        "milan": size_criterion(ctx, facts, "milan"),
        "ucsf": size_criterion(ctx, facts, "ucsf"),
        "up_to_seven": up_to_seven(ctx, facts),
        "metroticket_2": metroticket_2(ctx, facts),
        "afp_model": afp_model(ctx, facts),
        "hangzhou": hangzhou(ctx, facts),
        "fudan": size_criterion(ctx, facts, "fudan"),
        "kyoto": kyoto(ctx, facts),
        "five_five_500": five_five_500(ctx, facts),
        "asan": size_criterion(ctx, facts, "asan"),
        "unos_downstaging": unos_downstaging(ctx, facts),
        "unos_afp_exception": unos_afp_exception(ctx, facts),
    }
