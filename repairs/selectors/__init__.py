"""Reads of repairs that pages, the API and tasks share (one module per family)."""
