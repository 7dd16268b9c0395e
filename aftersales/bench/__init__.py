"""Benchmarks run by ``python manage.py bench <name>``.

Every benchmark prints one JSON object per measurement on its own line, with the fields
``bench``, ``metric``, ``value`` and ``unit`` plus what was measured; progress goes to stderr.

This package is the harness (``output``, ``timing``, ``seed``) and the benches of the kernel and
the hub (``queue``, ``sweep``). A workflow app's bench lives in the app (``returns/bench.py``) and
is registered here in its ``AppConfig.ready``; it is imported only when ``bench`` runs.
"""

from importlib import import_module
from types import ModuleType

# name -> dotted path of a module with ``HELP``, ``add_arguments(parser)`` and
# ``command(options, *, stdout, stderr)``.
_benches: dict[str, str] = {}


def register_bench(name: str, module: str) -> None:
    if name in _benches and _benches[name] != module:
        raise ValueError(f"bench {name!r} is already registered")
    _benches[name] = module


def registered_benches() -> dict[str, ModuleType]:
    return {name: import_module(module) for name, module in _benches.items()}
