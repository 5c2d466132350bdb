"""One module per decision. Rules read numbers only through a Trace (see core.finding)."""
