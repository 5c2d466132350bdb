"""Follow-up: surveillance schedules, RETREAT after transplant, AFP kinetics."""
