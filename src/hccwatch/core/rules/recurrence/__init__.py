"""Recurrence: early or late, intrahepatic metastasis or de novo, and the options to discuss."""
