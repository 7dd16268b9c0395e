"""``bench support``: the support desk's figures, one part per family, each in its own module.

A part is a module with ``HELP``, ``add_arguments(parser)`` (options prefixed with the part's
name) and ``run(options, *, out, log)``; it is listed in ``PARTS`` and runs when ``--parts``
names it (all parts by default). Every part writes its measurements to the same ``support`` bench.

    python manage.py bench support                         # every part
    python manage.py bench support --parts mail --mail-messages 2000
"""

from importlib import import_module
from types import ModuleType

from django.core.management.base import CommandError, CommandParser

from aftersales.bench.output import Measurements

BENCH = "support"
HELP = "The support desk: e-mail ingest from a real IMAP server (and the other support parts)."

# part name -> module. Each support family adds its line here.
PARTS: dict[str, str] = {
    "mail": "tickets.bench_mail",
}


def _parts() -> dict[str, ModuleType]:
    return {name: import_module(module) for name, module in PARTS.items()}


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"Comma-separated parts to run (default all: {', '.join(PARTS)}).",
    )
    for part in _parts().values():
        part.add_arguments(parser)


def command(options: dict, *, stdout, stderr) -> None:
    chosen = [name.strip() for name in options["parts"].split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown:
        raise CommandError(f"Unknown part(s) {', '.join(unknown)}; the parts are {', '.join(PARTS)}.")
    out = Measurements(BENCH, stdout)
    parts = _parts()
    for name in chosen:
        parts[name].run(options, out=out, log=lambda message: stderr.write(message, style_func=str))
