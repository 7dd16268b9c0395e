"""The repairs API (DRF): one view per operation."""
