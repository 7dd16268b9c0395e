"""Every write of repairs, one module per family of use cases."""
