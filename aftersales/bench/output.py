"""The output contract of every benchmark: one JSON object per measurement, one per line."""

import json
from typing import Any, Protocol


class Stream(Protocol):
    """A text stream: a file, sys.stdout, or a management command's OutputWrapper."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


class Measurements:
    def __init__(self, bench: str, stream: Stream):
        self.bench = bench
        self.stream = stream
        self.lines: list[dict[str, Any]] = []

    def emit(self, metric: str, value: Any, unit: str, **measured: Any) -> dict[str, Any]:
        line = {"bench": self.bench, "metric": metric, "value": value, "unit": unit, **measured}
        self.lines.append(line)
        self.stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()
        return line
