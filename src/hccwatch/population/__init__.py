"""Population mode: synthetic Bulk Data exports and the batch worklist (adapters, outside the core)."""
