"""Staging: BCLC, CNLC and AJCC 8th, resolved under unknown facts."""
