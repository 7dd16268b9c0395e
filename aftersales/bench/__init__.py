"""Benchmarks run by ``python manage.py bench <name>``.

Every benchmark prints one JSON object per measurement on its own line, with the fields
``bench``, ``metric``, ``value`` and ``unit`` plus what was measured; progress goes to stderr.
"""
