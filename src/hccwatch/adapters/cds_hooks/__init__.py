"""HL7 CDS Hooks 2.0 for hccwatch: cards from an assessment, as pure functions."""

from hccwatch.adapters.cds_hooks.cards import SUMMARY_MAX, cards, check_card

__all__ = ["SUMMARY_MAX", "cards", "check_card"]
