"""Analysis commands: trace, roi, sweep (being written)."""
