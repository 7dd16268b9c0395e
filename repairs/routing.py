"""Planning a day of on-site visits: technicians and jobs in, routes and the unplanned jobs out.

Pure: dataclasses in, a ``DayPlan`` out; nothing here reads or writes the database. Times are
seconds from local midnight of the planned day.

The solver is VROOM (through ``pyvroom``): a vehicle-routing solver built for exactly this shape —
one vehicle per technician starting and ending at the home base inside the shift, jobs with
service durations and time windows, priorities, a maximum number of tasks per vehicle — that ships
as a wheel, needs no licence key and plans 3,000 jobs for 300 technicians within a minute. It has
skills but no notion of service areas, skill levels or pinned visits, so those are decided here
first: each job's set of technicians who may do it (skill at the level asked, area served, shift
that can reach the window; just the chosen one for a pinned visit) becomes one VROOM skill that
exactly those technicians carry. A pinned visit also gets a zero-width window at its pinned start,
so the solver keeps it on that technician at that time and plans the rest around it.

A job no technician can do is reported unassigned with the reason (no skill, outside every area, no
capacity, window impossible) instead of being handed to the solver; a job the solver could not fit
is reported as lacking capacity. ``greedy_plan`` is the baseline the bench compares against: each
job, in window order, to the nearest technician who can still reach it in time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

import numpy
import vroom
from numpy.typing import NDArray
from vroom.solution.solution import Solution as VroomSolution

from .travel import Point, TravelModel, travel_durations

DAY_SECONDS = 24 * 3600
# Above this many jobs a time-limited plan runs one long search instead of many short ones.
LARGE_DAY_JOBS = 1000


class UnassignedReason(StrEnum):
    NO_SKILL = "no_skill"
    OUTSIDE_AREA = "outside_area"
    NO_CAPACITY = "no_capacity"
    WINDOW_IMPOSSIBLE = "window_impossible"
    PINNED_CONFLICT = "pinned_conflict"


@dataclass(frozen=True)
class TechnicianShift:
    """One technician's day: where they start and end, when, what they can do and where.

    ``skills`` maps a skill (a product category, a certification) to the level held; ``areas``
    holds the postal codes and districts served, empty meaning everywhere; ``capacity`` is the most
    visits in the day."""

    technician_id: int
    home: Point
    shift_start: int
    shift_end: int
    capacity: int
    skills: Mapping[str, int] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pin:
    technician_id: int
    start: int


@dataclass(frozen=True)
class JobRequest:
    """One visit to plan. ``area_keys`` are the address's postal code and district; a window of
    ``None`` means any time in the shift; ``priority`` 0-100, higher is planned first when not
    everything fits."""

    job_id: int
    location: Point
    service_seconds: int
    window: tuple[int, int] | None = None
    required_skills: Mapping[str, int] = field(default_factory=dict)
    area_keys: frozenset[str] = frozenset()
    priority: int = 0
    pin: Pin | None = None


@dataclass(frozen=True)
class PlannedVisit:
    job_id: int
    technician_id: int
    sequence: int
    arrival: int
    start: int
    end: int
    travel_seconds: int


@dataclass(frozen=True)
class TechnicianRoute:
    technician_id: int
    visits: tuple[PlannedVisit, ...]
    travel_seconds: int


@dataclass(frozen=True)
class UnassignedJob:
    job_id: int
    reason: UnassignedReason


@dataclass(frozen=True)
class DayPlan:
    routes: tuple[TechnicianRoute, ...]
    unassigned: tuple[UnassignedJob, ...]
    solver: str
    solve_seconds: float

    @property
    def total_travel_seconds(self) -> int:
        return sum(route.travel_seconds for route in self.routes)

    @property
    def visits(self) -> dict[int, PlannedVisit]:
        return {visit.job_id: visit for route in self.routes for visit in route.visits}

    @property
    def reasons(self) -> dict[int, UnassignedReason]:
        return {job.job_id: job.reason for job in self.unassigned}


@dataclass(frozen=True)
class _Instance:
    technicians: Sequence[TechnicianShift]
    jobs: Sequence[JobRequest]
    durations: NDArray[numpy.uint32]
    # per job: indices of the technicians who may do it (empty when unassignable)
    eligible: list[tuple[int, ...]]
    unassignable: dict[int, UnassignedReason]

    def home_index(self, technician: int) -> int:
        return technician

    def job_index(self, job: int) -> int:
        return len(self.technicians) + job


def _window(job: JobRequest, technician: TechnicianShift) -> tuple[int, int]:
    if job.pin is not None:
        return job.pin.start, job.pin.start
    if job.window is None:
        return technician.shift_start, technician.shift_end
    return job.window


def _instance(
    technicians: Sequence[TechnicianShift],
    jobs: Sequence[JobRequest],
    *,
    travel: TravelModel,
    durations: NDArray[numpy.uint32] | None,
) -> _Instance:
    if durations is None:
        points = [t.home for t in technicians] + [j.location for j in jobs]
        durations = travel_durations(points, model=travel)
    size = len(technicians) + len(jobs)
    if durations.shape != (size, size):
        raise ValueError(f"the duration matrix must be {size}×{size}, homes first, then jobs")
    index_of = {t.technician_id: i for i, t in enumerate(technicians)}
    everyone = range(len(technicians))
    # Who holds a skill at a level, and who serves an area, indexed once: 3,000 jobs × 300
    # technicians checked one pair at a time cost seconds of the planning minute.
    holders: dict[tuple[str, int], frozenset[int]] = {}
    serving: dict[str, set[int]] = {}
    everywhere = {t for t in everyone if not technicians[t].areas}
    for t in everyone:
        for key in technicians[t].areas:
            serving.setdefault(key, set()).add(t)
    shift_start = numpy.array([t.shift_start for t in technicians], dtype=numpy.int64)
    shift_end = numpy.array([t.shift_end for t in technicians], dtype=numpy.int64)
    eligible: list[tuple[int, ...]] = []
    unassignable: dict[int, UnassignedReason] = {}
    for j, job in enumerate(jobs):
        candidates: set[int] | range = everyone
        if job.pin is not None:
            pinned = index_of.get(job.pin.technician_id)
            candidates = set() if pinned is None else {pinned}
        skilled = set(candidates)
        for skill, level in job.required_skills.items():
            if (skill, level) not in holders:
                holders[skill, level] = frozenset(t for t in everyone if technicians[t].skills.get(skill, -1) >= level)
            skilled &= holders[skill, level]
        area = set(everywhere)
        for key in job.area_keys:
            area |= serving.get(key, set())
        local = skilled & area
        available = sorted(t for t in local if technicians[t].capacity > 0)
        column = len(technicians) + j
        reachable: list[int] = []
        if available:
            # Can each of them reach the window from home and still get back before the shift ends?
            index = numpy.array(available, dtype=numpy.int64)
            out = durations[index, column].astype(numpy.int64)
            back = durations[column, index].astype(numpy.int64)
            if job.pin is not None:
                opens = closes = numpy.full(len(index), job.pin.start, dtype=numpy.int64)
            elif job.window is None:
                opens, closes = shift_start[index], shift_end[index]
            else:
                opens = numpy.full(len(index), job.window[0], dtype=numpy.int64)
                closes = numpy.full(len(index), job.window[1], dtype=numpy.int64)
            start = numpy.maximum(opens, shift_start[index] + out)
            ok = (start <= closes) & (start + job.service_seconds + back <= shift_end[index])
            reachable = [int(t) for t in index[ok]]
        eligible.append(tuple(reachable))
        if reachable:
            continue
        if job.pin is not None:
            unassignable[j] = UnassignedReason.PINNED_CONFLICT
        elif not skilled:
            unassignable[j] = UnassignedReason.NO_SKILL
        elif not local:
            unassignable[j] = UnassignedReason.OUTSIDE_AREA
        elif not available:
            unassignable[j] = UnassignedReason.NO_CAPACITY
        else:
            unassignable[j] = UnassignedReason.WINDOW_IMPOSSIBLE
    return _Instance(technicians, jobs, durations, eligible, unassignable)


def _route_travel(instance: _Instance, technician: int, job_order: Sequence[int]) -> tuple[int, list[int]]:
    """Total travel of a route home → jobs → home, and the leg into each job."""
    legs: list[int] = []
    here = instance.home_index(technician)
    for job in job_order:
        there = instance.job_index(job)
        legs.append(int(instance.durations[here, there]))
        here = there
    back = int(instance.durations[here, instance.home_index(technician)]) if job_order else 0
    return sum(legs) + back, legs


def plan_day(
    technicians: Sequence[TechnicianShift],
    jobs: Sequence[JobRequest],
    *,
    travel: TravelModel | None = None,
    durations: NDArray[numpy.uint32] | None = None,
    timeout_seconds: float | None = None,
    exploration_level: int = 5,
    threads: int = 2,
    searches: int | None = None,
) -> DayPlan:
    """The solver's plan for one day. ``durations`` (homes first, then jobs) overrides the travel
    model; ``timeout_seconds`` bounds the search (the best plan found by then is returned).

    ``searches`` is how many independent construction + local-search runs VROOM makes (by default
    its own count for ``exploration_level``: 8 at level 1, 32 at 5), whose local search then
    goes ``exploration_level`` deep. VROOM splits the time limit evenly between the searches of a
    thread, so on a large day under a limit each of eight searches stops after an eighth of it,
    far from a local optimum; one search that gets the whole limit ends far lower (bench, 300
    technicians and 3,000 jobs in 40 s: travel ratio to greedy 1.04 → 0.75). That is the default
    for a day of more than ``LARGE_DAY_JOBS`` jobs under a time limit."""
    started = time.monotonic()
    instance = _instance(technicians, jobs, travel=travel or TravelModel(), durations=durations)
    problem = vroom.Input()
    problem.set_durations_matrix("car", instance.durations)
    # One VROOM skill per distinct set of technicians who may do a job (see the module docstring).
    skill_of: dict[tuple[int, ...], int] = {}
    carried: list[set[int]] = [set() for _ in technicians]
    for members in instance.eligible:
        if members and members not in skill_of:
            skill_of[members] = len(skill_of) + 1
            for t in members:
                carried[t].add(skill_of[members])
    for t, technician in enumerate(technicians):
        if not carried[t]:
            continue
        problem.add_vehicle(
            vroom.Vehicle(
                t + 1,
                start=instance.home_index(t),
                end=instance.home_index(t),
                skills=carried[t],
                time_window=vroom.TimeWindow(technician.shift_start, technician.shift_end),
                max_tasks=technician.capacity,
            )
        )
    planned_jobs = 0
    for j, job in enumerate(jobs):
        members = instance.eligible[j]
        if not members:
            continue
        window = _window(job, technicians[members[0]]) if (job.pin or job.window) else None
        problem.add_job(
            vroom.Job(
                j + 1,
                location=instance.job_index(j),
                default_service=job.service_seconds,
                skills={skill_of[members]},
                priority=max(0, min(100, job.priority + (100 if job.pin else 0))),
                time_windows=[vroom.TimeWindow(*window)] if window else [vroom.TimeWindow()],
            )
        )
        planned_jobs += 1
    routes: list[TechnicianRoute] = []
    unassigned = [UnassignedJob(jobs[j].job_id, reason) for j, reason in instance.unassignable.items()]
    if planned_jobs:
        timeout = timedelta(seconds=timeout_seconds) if timeout_seconds else None
        if searches is None and timeout is not None and planned_jobs > LARGE_DAY_JOBS:
            searches = 1
        if searches is None:
            solved = problem.solve(exploration_level=exploration_level, nb_threads=threads, timeout=timeout)
        else:
            # pyvroom's solve() takes only the exploration level; its binding takes the number of
            # searches and their depth directly (vroom's own -e flag maps to the same pair).
            solved = VroomSolution(
                problem._solve(nb_searches=searches, depth=exploration_level, nb_threads=threads, timeout=timeout)
            )
        solution: dict[str, Any] = solved.to_dict()
        for route in solution.get("routes", []):
            t = int(route["vehicle"]) - 1
            steps = [step for step in route["steps"] if step["type"] == "job"]
            order = [int(step["id"]) - 1 for step in steps]
            travel_seconds, legs = _route_travel(instance, t, order)
            visits = tuple(
                PlannedVisit(
                    job_id=jobs[j].job_id,
                    technician_id=technicians[t].technician_id,
                    sequence=position,
                    arrival=int(step["arrival"]),
                    start=int(step["arrival"]) + int(step.get("waiting_time", 0)) + int(step.get("setup", 0)),
                    end=int(step["arrival"])
                    + int(step.get("waiting_time", 0))
                    + int(step.get("setup", 0))
                    + int(step["service"]),
                    travel_seconds=legs[position],
                )
                for position, (j, step) in enumerate(zip(order, steps, strict=True))
            )
            routes.append(TechnicianRoute(technicians[t].technician_id, visits, travel_seconds))
        for job in solution.get("unassigned", []):
            j = int(job["id"]) - 1
            reason = UnassignedReason.PINNED_CONFLICT if jobs[j].pin else UnassignedReason.NO_CAPACITY
            unassigned.append(UnassignedJob(jobs[j].job_id, reason))
    routes.sort(key=lambda route: route.technician_id)
    unassigned.sort(key=lambda job: job.job_id)
    return DayPlan(tuple(routes), tuple(unassigned), "vroom", time.monotonic() - started)


def greedy_plan(
    technicians: Sequence[TechnicianShift],
    jobs: Sequence[JobRequest],
    *,
    travel: TravelModel | None = None,
    durations: NDArray[numpy.uint32] | None = None,
) -> DayPlan:
    """The baseline: jobs by the end of their window (pinned ones first, open-ended ones last), each appended to the
    route of the nearest eligible technician who can still reach it inside its window, with
    room that day and time to get home before the shift ends."""
    started = time.monotonic()
    instance = _instance(technicians, jobs, travel=travel or TravelModel(), durations=durations)
    position = [instance.home_index(t) for t in range(len(technicians))]
    clock = [t.shift_start for t in technicians]
    order: list[list[int]] = [[] for _ in technicians]
    starts: list[list[tuple[int, int, int]]] = [[] for _ in technicians]
    unassigned = [UnassignedJob(jobs[j].job_id, reason) for j, reason in instance.unassignable.items()]

    def sort_key(j: int) -> tuple[int, int, int, int, int]:
        job = jobs[j]
        window = (job.pin.start, job.pin.start) if job.pin else (job.window or (DAY_SECONDS, DAY_SECONDS))
        return (0 if job.pin else 1, window[1], window[0], -job.priority, job.job_id)

    matrix = instance.durations
    for j in sorted((j for j in range(len(jobs)) if instance.eligible[j]), key=sort_key):
        job = jobs[j]
        here = instance.job_index(j)
        best: tuple[int, int, int] | None = None  # (travel, technician, start)
        for t in instance.eligible[j]:
            technician = technicians[t]
            if len(order[t]) >= technician.capacity:
                continue
            leg = int(matrix[position[t], here])
            window_start, window_end = _window(job, technician)
            start = max(window_start, clock[t] + leg)
            if start > window_end or start + job.service_seconds + int(matrix[here, t]) > technician.shift_end:
                continue
            if best is None or (leg, t) < (best[0], best[1]):
                best = (leg, t, start)
        if best is None:
            reason = UnassignedReason.PINNED_CONFLICT if job.pin else UnassignedReason.NO_CAPACITY
            unassigned.append(UnassignedJob(job.job_id, reason))
            continue
        leg, t, start = best
        arrival = clock[t] + leg
        order[t].append(j)
        starts[t].append((arrival, start, start + job.service_seconds))
        clock[t] = start + job.service_seconds
        position[t] = here
    routes: list[TechnicianRoute] = []
    for t, technician in enumerate(technicians):
        if not order[t]:
            continue
        travel_seconds, legs = _route_travel(instance, t, order[t])
        visits = tuple(
            PlannedVisit(jobs[j].job_id, technician.technician_id, k, arrival, start, end, legs[k])
            for k, (j, (arrival, start, end)) in enumerate(zip(order[t], starts[t], strict=True))
        )
        routes.append(TechnicianRoute(technician.technician_id, visits, travel_seconds))
    unassigned.sort(key=lambda job: job.job_id)
    return DayPlan(tuple(routes), tuple(unassigned), "greedy", time.monotonic() - started)
