"""BCLC stage (Barcelona Clinic Liver Cancer, 2022 update) and its first-choice treatments.

The rules are checked in this order. The order matters: stage 0 must be tested before stage A.

| When | Then |
|---|---|
| ECOG performance status 3-4 | D (terminal) |
| end-stage liver function (Child-Pugh C) | D |
| liver function neither preserved nor end-stage (default: Child-Pugh B) | no BCLC stage |
| macrovascular invasion, extrahepatic spread, or cancer-related ECOG 1-2 | C (advanced) |
| a single nodule <= 2 cm | 0 (very early) |
| a single nodule of any size, or 2-3 nodules each <= 3 cm | A (early) |
| anything else (multinodular beyond A) | B (intermediate) |

- "Preserved" and "end-stage" liver function are mapped to Child-Pugh in the knowledge base
  (``bclc.preserved_liver_function_child_pugh``: default Child-Pugh A, optionally B7).
- ECOG 1-2 that is not cancer-related (comorbidity) does not change the stage.
- When an input is unknown, the stage is given only if no value of that input could change it.
  Otherwise the stage is null and the deciding unknowns are named.
- The first-choice options are an ordered list to discuss. BCLC 2022's treatment stage
  migration offers the next stage's option when the first choice is unfeasible.
- Stage B is split into three sub-groups (transplant, TACE, systemic).
- A note records what is known of the 2025 update.

Citations: BCLC-2022, ANNSURGONCOL-2022, BCLC-2025, OKEN-1982, PUGH-1973.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.staging.staging_common import (
    Resolution,
    burden_text,
    child_pugh_grade,
    deciding,
    extrahepatic_spread,
    flag,
    grade_matches,
    in_order,
    options,
    recorded_as,
    resolve,
    undecisive_gaps,
    words,
)
from hccwatch.core.rules.staging.tumour_burden import TumourBurden, tumour_burden

__all__ = ["bclc"]

NAMES = {"0": "very early", "A": "early", "B": "intermediate", "C": "advanced", "D": "terminal"}
MIGRATION = (
    "Treatment stage migration (BCLC 2022): if the first-choice option is not feasible or fails, "
    "the option of the next more advanced stage is considered. The options are to discuss at a "
    "tumour board, in order, not orders."
)

# Fact names, as they are named when missing.
LIVER, ECOG, RELATED = "scores.child_pugh", "ecog", "ecog_cancer_related"
MACRO, EHS, COUNT, SIZE = "macrovascular_invasion", "extrahepatic_metastasis", "tumors", "tumors.size_cm"


@dataclass(frozen=True)
class _Cuts:
    very_early_cm: float
    early_nodules: int
    early_cm: float
    terminal_ecog: int


def _read_cuts(t: Trace) -> _Cuts:
    return _Cuts(
        very_early_cm=t.num("bclc.very_early_max_cm"),
        early_nodules=int(t.num("bclc.early_max_nodules")),
        early_cm=t.num("bclc.early_multinodular_max_cm"),
        terminal_ecog=int(t.num("bclc.ecog_terminal_min")),
    )


def _stage(s: Mapping[str, Any], cut: _Cuts) -> str | None:
    # Each fact is read only where it matters: the resolver branches on the unknowns read.
    n = s[COUNT]
    if n == 0 and not (s[MACRO] or s[EHS]):
        return None  # no disease recorded: a poor ECOG or liver alone is not an HCC stage
    if s[ECOG] == "terminal" or s[LIVER] == "end_stage":
        return "D"
    if s[LIVER] == "not_preserved":
        return None
    if s[MACRO] or s[EHS] or (s[ECOG] == "symptomatic" and s[RELATED]):
        return "C"
    if n == 1:
        return "0" if s[SIZE] <= cut.very_early_cm else "A"
    return "A" if n <= cut.early_nodules and s[SIZE] <= cut.early_cm else "B"


def _liver(t: Trace, cls: str | None, points: int | None) -> tuple[str, ...]:
    if cls is None:
        return ("preserved", "not_preserved", "end_stage")
    end = grade_matches(t.items("bclc.end_stage_liver_function_child_pugh"), cls, points)
    kept = grade_matches(t.items("bclc.preserved_liver_function_child_pugh"), cls, points)
    if end:
        return ("end_stage",)
    if kept:
        return ("preserved",)
    possible = [name for name, v in (("preserved", kept), ("end_stage", end)) if v is None]
    if possible:
        t.need("scores.child_pugh.points")
    return (*possible, "not_preserved")


def _ecog(ctx: Context, t: Trace, cut: _Cuts) -> tuple[str, ...]:
    ecog = ctx.record.ecog
    if ecog is None:
        t.need(ECOG)
        return ("asymptomatic", "symptomatic", "terminal")
    t.used(ECOG, ecog)
    if ecog >= cut.terminal_ecog:
        return ("terminal",)
    return ("symptomatic",) if ecog >= 1 else ("asymptomatic",)


def _domains(ctx: Context, t: Trace, child_pugh: Finding, burden: TumourBurden, cut: _Cuts) -> dict[str, Any]:
    domains: dict[str, Any] = {
        LIVER: _liver(t, *child_pugh_grade(t, child_pugh)),
        ECOG: _ecog(ctx, t, cut),
        MACRO: flag(t, MACRO, ctx.record.macrovascular_invasion),
        EHS: extrahepatic_spread(ctx, t),
        COUNT: burden.count_candidates([cut.early_nodules]),
        SIZE: burden.largest_candidates([cut.very_early_cm, cut.early_cm]),
    }
    # Whether ECOG 1-2 is cancer-related matters only when ECOG may be 1-2.
    related = ctx.record.ecog_cancer_related
    domains[RELATED] = flag(t, RELATED, related) if "symptomatic" in domains[ECOG] else (related,)
    return domains


@dataclass(frozen=True)
class _Case:
    """Everything an explanation draws on."""

    ctx: Context
    t: Trace
    domains: Mapping[str, Any]
    burden: TumourBurden
    cut: _Cuts
    grade: str

    def known(self, name: str) -> Any:
        """The value of a fact with a single possible value, else None."""
        values = self.domains[name]
        return values[0] if len(values) == 1 else None


def bclc(ctx: Context, child_pugh: Finding) -> Finding:
    """The BCLC 2022 stage with its ordered first-choice options (see the module docstring)."""
    t = ctx.trace("staging.bclc")
    t.cite("BCLC-2022")
    t.note(str(t.value("bclc.update_2025")))
    cut = _read_cuts(t)
    burden = tumour_burden(ctx, t)
    domains = _domains(ctx, t, child_pugh, burden, cut)
    cls, points = child_pugh.get("class"), child_pugh.get("points")
    grade = f"Child-Pugh {cls}{points if points is not None else ''}" if cls else "Child-Pugh unknown"
    case = _Case(ctx, t, domains, burden, cut, grade)
    result = resolve(domains, lambda s: _stage(s, cut), key=("staging.bclc", cut))
    if not result.certain:
        return _undetermined(case, result)
    stage = result.value
    if stage is None:
        return _unstaged(case)
    survival = t.table("bclc.expected_survival").get(stage)
    values: dict[str, JsonValue] = {
        "stage": stage,
        "first_choice": options(t, _options_key(case, stage)),
        "stage_migration_note": MIGRATION,
        "expected_survival": survival,
        "liver_function": case.known(LIVER),
    }
    text = (
        f"BCLC stage {stage} ({NAMES[stage]}): {_reason(case, stage)}. "
        f"Expected survival {survival}. {recorded_as(burden)}"
    )
    return t.finish(values, text + undecisive_gaps(t), determined=True)


def _options_key(case: _Case, stage: str) -> str:
    if stage == "0":
        return "bclc.first_choice.stage_0"
    if stage == "A":
        return f"bclc.first_choice.stage_a_{'single' if case.known(COUNT) == 1 else 'multinodular'}"
    if stage == "B":
        # Infiltrative growth picks the systemic sub-group; unknown keeps all three sub-groups listed.
        infiltrative = case.ctx.record.infiltrative
        if infiltrative is not None:
            case.t.used("infiltrative", infiltrative)
        return f"bclc.first_choice.stage_b{'_diffuse' if infiltrative else ''}"
    if stage == "C":
        return "bclc.first_choice.stage_c"
    return f"bclc.first_choice.stage_d_{'performance' if _terminal(case) else 'liver'}"


def _reason(case: _Case, stage: str) -> str:
    ecog, cut = case.ctx.record.ecog, case.cut
    if stage == "D":
        causes = [
            *([f"ECOG performance status {ecog} (terminal from ECOG {cut.terminal_ecog})"] * _terminal(case)),
            *([f"end-stage liver function ({case.grade})"] * (case.known(LIVER) == "end_stage")),
        ]
        return words(causes, "and")
    if stage == "C":
        causes = [
            *(["macrovascular invasion"] * bool(case.known(MACRO))),
            *(["extrahepatic spread"] * bool(case.known(EHS))),
            *([f"cancer-related ECOG {ecog}"] * _cancer_related(case)),
        ]
        return f"{words(causes, 'and')} with preserved liver function ({case.grade})"
    ps = f"ECOG {ecog}"
    if case.known(ECOG) == "symptomatic":
        ps += " not cancer-related (performance status due to comorbidity does not change the stage)"
    if stage == "0":
        why = f"a single nodule <= {cut.very_early_cm:g} cm is very early stage"
    elif stage == "A" and case.known(COUNT) == 1:
        why = "a single nodule is stage A whatever its size"
    elif stage == "A":
        why = f"2-{cut.early_nodules} nodules each <= {cut.early_cm:g} cm are early stage"
    else:
        why = (
            f"multinodular disease beyond stage A (more than {cut.early_nodules} nodules, or a nodule "
            f"> {cut.early_cm:g} cm) is intermediate stage. BCLC 2022 splits B into three sub-groups: "
            "within extended transplant criteria (transplant), well-defined nodules with preserved portal "
            "flow (TACE), and diffuse, infiltrative or extensive bilobar disease (systemic therapy)"
        )
    return (
        f"{burden_text(case.burden)}, no macrovascular invasion or extrahepatic spread, {ps}, "
        f"preserved liver function ({case.grade}); {why}"
    )


def _terminal(case: _Case) -> bool:
    return bool(case.known(ECOG) == "terminal")


def _cancer_related(case: _Case) -> bool:
    return bool(case.known(ECOG) == "symptomatic" and case.known(RELATED))


def _empty(liver: Any) -> dict[str, JsonValue]:
    return {
        "stage": None,
        "first_choice": [],
        "stage_migration_note": None,
        "expected_survival": None,
        "liver_function": liver,
    }


def _unstaged(case: _Case) -> Finding:
    t = case.t
    # "No disease to stage" is an answer; "liver function between the BCLC categories" is not.
    nothing = case.known(COUNT) == 0 and case.known(MACRO) is False and case.known(EHS) is False
    if not nothing and case.known(LIVER) == "not_preserved":
        kept = words([str(x) for x in t.items("bclc.preserved_liver_function_child_pugh")])
        cut = case.cut
        if_kept = resolve(
            {**case.domains, LIVER: ("preserved",)}, lambda s: _stage(s, cut), key=("staging.bclc", cut)
        ).value
        would_be = f"stage {if_kept}" if if_kept else "undetermined with the data recorded"
        text = (
            f"No BCLC stage: liver function ({case.grade}) is neither preserved (configured as Child-Pugh "
            f"{kept}) nor end-stage. BCLC 2022 defines stages 0-C for preserved and D for end-stage liver "
            "function only. With preserved liver function this tumour burden and performance status would "
            f"be {would_be}; treatment is decided case by case."
        )
    else:
        text = "No BCLC stage: no tumour is recorded, so there is nothing to stage."
    text = f"{text} {recorded_as(case.burden)}{undecisive_gaps(t)}"
    return t.finish(_empty(case.known(LIVER)), text, determined=nothing)


def _undetermined(case: _Case, result: Resolution[str | None]) -> Finding:
    t = case.t
    stages = [
        f"stage {s}" if s in NAMES else s for s in in_order(result.outcomes, list(NAMES), "not stageable")
    ]
    text = (
        f"Cannot determine the BCLC stage: with the data recorded it could be {words(stages)}, "
        f"depending on {deciding(t, result, list(case.domains))}. {recorded_as(case.burden)}"
    )
    return t.finish(_empty(case.known(LIVER)), text, determined=False)
