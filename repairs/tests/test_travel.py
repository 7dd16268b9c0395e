"""Travel times: haversine by default, an OSRM-compatible /table server when one is configured.

There is no routing server here, so a local HTTP server answers the /table requests the way OSRM
does, and records them: what is asked (coordinates as lon,lat; sources; destinations) and how the
answer is read (blocks stitched into one matrix; an unreachable pair costs a day) are real.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy
import pytest

from repairs.travel import (
    UNREACHABLE_SECONDS,
    Point,
    RoutingServerError,
    TravelModel,
    haversine_durations,
    haversine_km,
    travel_durations,
)


class TableServer:
    """Answers GET /table/v1/driving/<lon,lat;...>?sources=..&destinations=.. with durations of
    |i - j| × 100 seconds between the coordinates' longitudes × 1000, or ``answer`` when set."""

    def __init__(self, answer=None, unreachable=()):
        self.requests = []
        self.answer = answer
        self.unreachable = set(unreachable)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                body = json.dumps(owner.respond(self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, path):
        if self.answer is not None:
            return self.answer
        parsed = urllib.parse.urlsplit(path)
        coordinates = parsed.path.rsplit("/", 1)[1].split(";")
        ids = [round(float(c.split(",")[0]) * 1000) for c in coordinates]
        query = urllib.parse.parse_qs(parsed.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]
        assert query["annotations"] == ["duration"]
        durations = [
            [None if (ids[s], ids[d]) in self.unreachable else abs(ids[s] - ids[d]) * 100.4 for d in destinations]
            for s in sources
        ]
        return {"code": "Ok", "durations": durations}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def points(count):
    # point i sits at longitude i / 1000, so the server knows it as i
    return [Point(31.2, i / 1000) for i in range(count)]


def test_the_routing_server_matrix_is_stitched_from_blocks_of_the_configured_size():
    # given: five points, blocks of two: 3 × 3 requests
    with TableServer() as server:
        model = TravelModel(routing_url=server.url + "/", routing_block=2)

        # when
        matrix = travel_durations(points(5), model=model)

    # then
    expected = numpy.array([[round(abs(i - j) * 100.4) for j in range(5)] for i in range(5)], dtype=numpy.uint32)
    assert (matrix == expected).all()
    assert len(server.requests) == 9
    first = urllib.parse.urlsplit(server.requests[0])
    assert first.path == "/table/v1/driving/0.000000,31.200000;0.001000,31.200000"
    assert urllib.parse.parse_qs(first.query) == {
        "sources": ["0;1"],
        "destinations": ["0;1"],
        "annotations": ["duration"],
    }
    # an off-diagonal block names its sources, then its destinations
    second = urllib.parse.urlsplit(server.requests[1])
    assert (
        second.path == "/table/v1/driving/0.000000,31.200000;0.001000,31.200000;0.002000,31.200000;0.003000,31.200000"
    )
    assert urllib.parse.parse_qs(second.query)["destinations"] == ["2;3"]


def test_a_pair_the_routing_server_cannot_connect_costs_a_whole_day():
    with TableServer(unreachable={(0, 2)}) as server:
        matrix = travel_durations(points(3), model=TravelModel(routing_url=server.url))

    assert matrix[0, 2] == UNREACHABLE_SECONDS
    assert matrix[2, 0] == 201
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [{"code": "InvalidQuery", "message": "Too many table coordinates"}, {"code": "Ok", "durations": [[0]]}, [1, 2]],
)
def test_a_routing_server_answer_without_a_usable_table_is_an_error(answer):
    with TableServer(answer=answer) as server, pytest.raises(RoutingServerError):
        travel_durations(points(2), model=TravelModel(routing_url=server.url))


def test_a_routing_server_that_does_not_answer_is_an_error():
    with TableServer() as server:
        url = server.url
    with pytest.raises(RoutingServerError, match="did not answer"):
        travel_durations(points(2), model=TravelModel(routing_url=url, routing_timeout_seconds=1))


def test_haversine_matrix_agrees_with_the_single_pair_formula():
    # given: the Bund and Shanghai Hongqiao station, about 18 km apart as the crow flies
    bund, hongqiao = Point(31.2400, 121.4900), Point(31.1940, 121.3200)

    # when
    matrix = haversine_durations([bund, hongqiao], speed_kmh=36, detour_factor=1.25)

    # then
    km = haversine_km(bund, hongqiao)
    assert 16.5 < km < 17.5
    assert matrix[0, 1] == matrix[1, 0] == round(km * 1.25 / 36 * 3600)
    assert matrix[0, 0] == 0
