"""Travel times between points, for the dispatch planner (pure apart from the optional routing server).

By default a duration is the great-circle (haversine) distance stretched by a detour factor (streets
are not straight) and driven at a configured average speed: no server to run, and good enough to
order a day's visits. Where the merchant runs an OSRM-compatible routing server, its ``/table``
service gives real road durations instead; it is asked block by block, because such servers cap
the size of one table (OSRM's default ``--max-table-size`` is 100).
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

import numpy
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088

# A pair the routing server cannot connect (an island, a closed road) costs a day: the solver then
# never plans it, and the greedy baseline never picks it.
UNREACHABLE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class TravelModel:
    """How travel durations are estimated: haversine × detour at ``speed_kmh`` unless a routing
    server URL is set (``routing_url`` is the server's root, e.g. ``http://osrm.internal:5000``)."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.3
    routing_url: str = ""
    routing_profile: str = "driving"
    routing_block: int = 100
    routing_timeout_seconds: float = 10.0


class RoutingServerError(Exception):
    """The routing server did not answer with a usable table."""


def haversine_km(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def haversine_durations(points: Sequence[Point], *, speed_kmh: float, detour_factor: float) -> NDArray[numpy.uint32]:
    """Seconds between every pair of ``points`` as a square matrix (vectorised: 3,300 points in well
    under a second)."""
    if not points:
        return numpy.zeros((0, 0), dtype=numpy.uint32)
    lat = numpy.radians(numpy.array([p.latitude for p in points], dtype=numpy.float64))
    lon = numpy.radians(numpy.array([p.longitude for p in points], dtype=numpy.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = numpy.sin(dlat / 2) ** 2 + numpy.cos(lat)[:, None] * numpy.cos(lat)[None, :] * numpy.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * numpy.arcsin(numpy.sqrt(numpy.clip(h, 0.0, 1.0)))
    seconds = km * detour_factor / speed_kmh * 3600.0
    matrix: NDArray[numpy.uint32] = numpy.rint(seconds).astype(numpy.uint32)
    return matrix


def routing_server_durations(points: Sequence[Point], *, model: TravelModel) -> NDArray[numpy.uint32]:
    """Seconds between every pair of ``points`` from an OSRM-compatible ``/table`` service, asked in
    blocks of ``model.routing_block`` sources × destinations."""
    size = len(points)
    matrix = numpy.zeros((size, size), dtype=numpy.uint32)
    block = max(1, model.routing_block)
    for row in range(0, size, block):
        sources = list(range(row, min(size, row + block)))
        for column in range(0, size, block):
            destinations = list(range(column, min(size, column + block)))
            durations = _table(points, sources, destinations, model=model)
            for i, source in enumerate(sources):
                for j, destination in enumerate(destinations):
                    value = durations[i][j]
                    matrix[source, destination] = UNREACHABLE_SECONDS if value is None else round(float(value))
    return matrix


def _table(
    points: Sequence[Point], sources: list[int], destinations: list[int], *, model: TravelModel
) -> list[list[float | None]]:
    # One request names each point once: the sources, then the destinations not already among them.
    ordered = list(dict.fromkeys(sources + destinations))
    position = {index: i for i, index in enumerate(ordered)}
    coordinates = ";".join(f"{points[i].longitude:.6f},{points[i].latitude:.6f}" for i in ordered)
    query = urllib.parse.urlencode(
        {
            "sources": ";".join(str(position[i]) for i in sources),
            "destinations": ";".join(str(position[i]) for i in destinations),
            "annotations": "duration",
        }
    )
    url = f"{model.routing_url.rstrip('/')}/table/v1/{model.routing_profile}/{coordinates}?{query}"
    if not url.startswith(("http://", "https://")):
        raise RoutingServerError(f"the routing server URL must be http(s): {model.routing_url!r}")
    try:
        with urllib.request.urlopen(url, timeout=model.routing_timeout_seconds) as response:  # noqa: S310 -- scheme checked above
            answer = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as error:
        raise RoutingServerError(f"the routing server did not answer: {error}") from error
    if not isinstance(answer, dict):
        raise RoutingServerError("the routing server's answer is not a JSON object")
    durations = answer.get("durations")
    if answer.get("code") != "Ok" or not isinstance(durations, list) or len(durations) != len(sources):
        raise RoutingServerError(f"the routing server answered {answer.get('code')!r} without a duration table")
    if any(not isinstance(row, list) or len(row) != len(destinations) for row in durations):
        raise RoutingServerError("the routing server's duration table has the wrong shape")
    return durations


def travel_durations(points: Sequence[Point], *, model: TravelModel) -> NDArray[numpy.uint32]:
    if model.routing_url:
        return routing_server_durations(points, model=model)
    return haversine_durations(points, speed_kmh=model.speed_kmh, detour_factor=model.detour_factor)
