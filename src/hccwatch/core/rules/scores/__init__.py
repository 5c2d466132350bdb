"""Liver function scores: Child-Pugh, the MELD family and ALBI."""
