"""The day planner on small instances whose best plan is known by hand.

Positions are on a line and one unit is one minute of driving, so every travel time below can be
checked with a pencil: the matrix is |a - b| × 60 seconds, technicians' homes first, then the jobs.
"""

import numpy
import pytest

from repairs.routing import (
    JobRequest,
    Pin,
    TechnicianShift,
    UnassignedReason,
    greedy_plan,
    plan_day,
)
from repairs.travel import Point

EIGHT = 8 * 3600
SIX_PM = 18 * 3600
HALF_HOUR = 1800
NOWHERE = Point(0, 0)  # the matrix says where things are


def line_matrix(positions):
    x = numpy.array(positions, dtype=numpy.int64)
    return (numpy.abs(x[:, None] - x[None, :]) * 60).astype(numpy.uint32)


def technician(technician_id, *, capacity=2, skills=None, areas=frozenset(), start=EIGHT, end=SIX_PM):
    return TechnicianShift(
        technician_id=technician_id,
        home=NOWHERE,
        shift_start=start,
        shift_end=end,
        capacity=capacity,
        skills={"taps": 2} if skills is None else skills,
        areas=areas,
    )


def job(job_id, *, window=None, skills=None, areas=frozenset({"200001"}), pin=None, service=HALF_HOUR):
    return JobRequest(
        job_id=job_id,
        location=NOWHERE,
        service_seconds=service,
        window=window,
        required_skills={"taps": 1} if skills is None else skills,
        area_keys=areas,
        pin=pin,
    )


def two_technicians_four_jobs():
    """A lives at 0 and B at 10, two visits a day each. Jobs at 2, 4, 8 and 12; the ones at 2 and
    8 must start by 8:30. The best plan: A 0→2→4→0 and B 10→8→12→10, 8 + 8 = 16 minutes of driving.
    Every other split costs more (A taking 8: 0→2→8→0 alone is 16)."""
    technicians = [technician(1), technician(2)]
    jobs = [
        job(101, window=(EIGHT, EIGHT + HALF_HOUR)),
        job(102),
        job(103, window=(EIGHT, EIGHT + HALF_HOUR)),
        job(104),
    ]
    return technicians, jobs, line_matrix([0, 10, 2, 4, 8, 12])


@pytest.mark.parametrize("searches", [1, 2])
def test_plan_day_with_one_long_search_under_a_time_limit_finds_the_same_optimum(searches):
    # given
    technicians, jobs, matrix = two_technicians_four_jobs()

    # when: the path a large day takes (a set number of searches sharing the time limit)
    plan = plan_day(technicians, jobs, durations=matrix, timeout_seconds=5, exploration_level=1, searches=searches)

    # then
    assert plan.unassigned == ()
    assert plan.total_travel_seconds == 16 * 60
    routes = {route.technician_id: [v.job_id for v in route.visits] for route in plan.routes}
    assert routes == {1: [101, 102], 2: [103, 104]}


def test_eligibility_index_keeps_skill_level_area_and_reach_apart():
    # given: 1 lacks the level, 2 serves elsewhere, 3 cannot get back before 8:40, 4 can do it
    technicians = [
        technician(1, skills={"taps": 1}),
        technician(2, areas=frozenset({"200002"})),
        technician(3, end=EIGHT + 2300),
        technician(4, areas=frozenset({"200001", "200003"})),
    ]
    jobs = [job(201, skills={"taps": 2}, window=(EIGHT, EIGHT + HALF_HOUR))]
    matrix = line_matrix([0, 0, 0, 0, 5])

    # when
    plan = plan_day(technicians, jobs, durations=matrix)

    # then
    assert plan.unassigned == ()
    assert [(v.job_id, v.technician_id) for v in plan.visits.values()] == [(201, 4)]


def test_plan_day_finds_the_known_optimum_of_a_small_day():
    # given
    technicians, jobs, matrix = two_technicians_four_jobs()

    # when
    plan = plan_day(technicians, jobs, durations=matrix)

    # then
    assert plan.unassigned == ()
    assert plan.total_travel_seconds == 16 * 60
    routes = {route.technician_id: route for route in plan.routes}
    assert [v.job_id for v in routes[1].visits] == [101, 102]
    assert [v.job_id for v in routes[2].visits] == [103, 104]
    assert routes[1].travel_seconds == 8 * 60
    assert routes[2].travel_seconds == 8 * 60
    # A drives 2 minutes, works half an hour, drives 2 more: the second visit starts at 8:34.
    first, second = routes[1].visits
    assert (first.arrival, first.start, first.end, first.travel_seconds) == (
        EIGHT + 120,
        EIGHT + 120,
        EIGHT + 1920,
        120,
    )
    assert (second.arrival, second.start, second.end, second.travel_seconds) == (
        EIGHT + 2040,
        EIGHT + 2040,
        EIGHT + 3840,
        120,
    )
    # B: 8 is 2 minutes from home, 12 is 4 minutes further.
    assert [(v.arrival, v.start) for v in routes[2].visits] == [
        (EIGHT + 120, EIGHT + 120),
        (EIGHT + 2160, EIGHT + 2160),
    ]


def test_greedy_baseline_never_beats_the_solver_on_the_small_day():
    # given
    technicians, jobs, matrix = two_technicians_four_jobs()

    # when
    greedy = greedy_plan(technicians, jobs, durations=matrix)
    solved = plan_day(technicians, jobs, durations=matrix)

    # then
    assert len(greedy.visits) == 4
    assert greedy.total_travel_seconds >= solved.total_travel_seconds == 960


def test_a_job_needing_a_skill_nobody_has_stays_unassigned_and_the_rest_is_planned():
    # given: the gas boiler needs a level-2 gas certificate; nobody holds one (B has level 1)
    technicians = [technician(1), technician(2, skills={"taps": 2, "gas": 1})]
    jobs = [job(101), job(102), job(103, skills={"gas": 2}), job(104)]
    matrix = line_matrix([0, 10, 2, 4, 8, 12])

    # when
    plan = plan_day(technicians, jobs, durations=matrix)

    # then
    assert plan.reasons == {103: UnassignedReason.NO_SKILL}
    assert sorted(plan.visits) == [101, 102, 104]
    greedy = greedy_plan(technicians, jobs, durations=matrix)
    assert greedy.reasons == {103: UnassignedReason.NO_SKILL}


def test_each_unplannable_job_is_reported_with_its_own_reason():
    # given: A serves postal code 200001 only and has room for one visit; its shift ends at noon
    technicians = [technician(1, capacity=1, areas=frozenset({"200001"}), end=12 * 3600)]
    jobs = [
        job(101),  # planned
        job(102, areas=frozenset({"310000"})),  # another city
        job(103, window=(15 * 3600, 17 * 3600)),  # after the shift
        job(104),  # no room left after 101
        job(105, skills={"fridges": 1}),
    ]
    matrix = line_matrix([0, 1, 1, 1, 1, 1])

    # when
    plan = plan_day(technicians, jobs, durations=matrix)

    # then
    assert sorted(plan.visits) == [101] or sorted(plan.visits) == [104]
    assert plan.reasons == {
        102: UnassignedReason.OUTSIDE_AREA,
        103: UnassignedReason.WINDOW_IMPOSSIBLE,
        (104 if 101 in plan.visits else 101): UnassignedReason.NO_CAPACITY,
        105: UnassignedReason.NO_SKILL,
    }


def test_a_technician_without_capacity_leaves_the_job_unassigned_for_capacity():
    # given
    technicians = [technician(1, capacity=0)]
    jobs = [job(101)]

    # when
    plan = plan_day(technicians, jobs, durations=line_matrix([0, 3]))

    # then
    assert plan.routes == ()
    assert plan.reasons == {101: UnassignedReason.NO_CAPACITY}


def test_a_pinned_visit_stays_with_its_technician_at_its_time_and_the_rest_is_planned_around_it():
    # given: the job at 9 is nearer B (home 10), but a supervisor pinned it on A at 11:00
    technicians = [technician(1), technician(2)]
    eleven = 11 * 3600
    jobs = [job(101, pin=Pin(technician_id=1, start=eleven)), job(102), job(103)]
    matrix = line_matrix([0, 10, 9, 1, 11])

    # when
    plan = plan_day(technicians, jobs, durations=matrix)

    # then
    visits = plan.visits
    assert (visits[101].technician_id, visits[101].start) == (1, eleven)
    assert visits[102].technician_id == 1
    assert visits[103].technician_id == 2
    assert plan.unassigned == ()


def test_a_pin_on_a_technician_who_is_not_working_is_reported_as_a_pin_conflict():
    # given
    technicians = [technician(1)]
    jobs = [job(101, pin=Pin(technician_id=2, start=10 * 3600)), job(102)]

    # when
    plan = plan_day(technicians, jobs, durations=line_matrix([0, 5, 6]))

    # then
    assert plan.reasons == {101: UnassignedReason.PINNED_CONFLICT}
    assert sorted(plan.visits) == [102]


def test_plan_day_refuses_a_matrix_of_the_wrong_size():
    technicians, jobs, _ = two_technicians_four_jobs()
    with pytest.raises(ValueError, match="6×6"):
        plan_day(technicians, jobs, durations=line_matrix([0, 1]))


def test_travel_times_default_to_haversine_with_detour_and_speed():
    # given: two points 0.1° of longitude apart on the equator, 11.119 km; × 1.3 at 30 km/h
    technicians = [TechnicianShift(1, Point(0, 0), EIGHT, SIX_PM, 1)]
    jobs = [JobRequest(101, Point(0, 0.1), HALF_HOUR)]

    # when
    plan = plan_day(technicians, jobs)

    # then: 11.1195 km × 1.3 / 30 km/h = 1734.6 s, there and back
    (route,) = plan.routes
    assert route.visits[0].travel_seconds == 1735
    assert route.travel_seconds == 2 * 1735
