"""Planning a day from the database: the solver's plan previewed, applied in one locked call that
keeps pinned visits, tells the customers whose technician or time changes; a technician who drops
out has the rest of the day re-planned among the others."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from aftersales.exceptions import ApplicationError
from aftersales.models import Membership, Notification
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import TechnicianDayLoad, TechnicianTimeOff, TechnicianWindowLoad, Visit
from repairs.routing import UnassignedReason
from repairs.selectors.dispatch import merchants_for_evening_plan, plan_preview
from repairs.services.dispatch import visit_assign, visit_book
from repairs.services.planning import dispatch_day_plan, technician_drop_out
from repairs.tasks import dispatch_evening_plans
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from tickets.models import TicketEvent

# Monday 1 June 2026, 20:00 in Shanghai: the evening before the planned day
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TUESDAY = date(2026, 6, 2)


def tuesday(hour, minute=0):
    return datetime(2026, 6, 2, tzinfo=UTC) + timedelta(hours=hour - 8, minutes=minute)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="plan-shop", timezone="Asia/Shanghai")


@pytest.fixture
def supervisor(shop):
    user = UserFactory()
    MembershipFactory(merchant=shop, user=user, role=Membership.Role.SUPERVISOR)
    return user


@pytest.fixture
def west_and_east(shop):
    """West lives at the west end of a street (121.40), East at the east end (121.60)."""
    calendar = working_calendar(shop)
    west = TechnicianFactory(
        merchant=shop, calendar=calendar, home_latitude=Decimal("31.2"), home_longitude=Decimal("121.40")
    )
    east = TechnicianFactory(
        merchant=shop, calendar=calendar, home_latitude=Decimal("31.2"), home_longitude=Decimal("121.60")
    )
    return west, east


def repair_at(shop, longitude, **fields):
    return OnSiteRepairFactory(merchant=shop, latitude=Decimal("31.2"), longitude=Decimal(str(longitude)), **fields)


def test_the_plan_gives_each_visit_to_the_nearer_technician_and_applying_it_tells_the_moved_customers(
    clock, shop, supervisor, west_and_east
):
    # given: both visits were booked with West (the first free technician); one is next to East's home
    west, east = west_and_east
    near_west = visit_book(repair=repair_at(shop, 121.41), window_start=tuesday(10))
    near_east = visit_book(repair=repair_at(shop, 121.59), window_start=tuesday(10))
    Visit.objects.filter(pk__in=[near_west.pk, near_east.pk]).update(technician=west)

    # when: previewed, nothing is written
    preview = plan_preview(shop, TUESDAY)

    # then
    assert preview.plan.unassigned == ()
    assert {v.job_id: v.technician_id for v in preview.plan.visits.values()} == {
        near_west.pk: west.pk,
        near_east.pk: east.pk,
    }
    assert Visit.objects.get(pk=near_east.pk).technician_id == west.pk

    # when: the supervisor applies it
    outcome = dispatch_day_plan(merchant=shop, day=TUESDAY, actor=supervisor)

    # then
    assert (outcome.moved, outcome.kept_pinned, outcome.unassigned, outcome.customers_told) == (2, 0, 0, 2)
    near_east.refresh_from_db()
    near_west.refresh_from_db()
    assert near_east.technician_id == east.pk
    assert near_west.technician_id == west.pk
    # each is a couple of minutes from home and the window opens at 10:00: both start at 10:00 sharp
    assert (near_west.planned_start, near_west.planned_end, near_west.sequence) == (tuesday(10), tuesday(11), 0)
    assert near_east.planned_start == tuesday(10)
    assert Notification.objects.filter(template="repair_visit_planned", channel="email").count() == 2
    assert TicketEvent.objects.filter(verb="visit_planned").count() == 2

    # when: planned again, nothing changes and nobody is told twice
    again = dispatch_day_plan(merchant=shop, day=TUESDAY, actor=supervisor)
    assert (again.moved, again.customers_told) == (0, 0)
    assert Notification.objects.filter(template="repair_visit_planned", channel="email").count() == 2


def test_a_pinned_visit_stays_with_the_technician_a_supervisor_chose(clock, shop, supervisor, west_and_east):
    # given: the visit next to East is pinned on West at 11:00
    west, _east = west_and_east
    visit = visit_book(repair=repair_at(shop, 121.59), window_start=tuesday(10))
    visit_assign(visit=visit, actor=supervisor, technician=west, pinned=True, planned_start=tuesday(11))

    # when
    outcome = dispatch_day_plan(merchant=shop, day=TUESDAY, actor=supervisor)

    # then
    visit.refresh_from_db()
    assert (outcome.moved, outcome.kept_pinned) == (0, 1)
    assert (visit.technician_id, visit.planned_start, visit.pinned) == (west.pk, tuesday(11), True)


def test_only_supervisors_plan_and_a_refusal_changes_nothing(clock, shop, west_and_east):
    # given
    west, _ = west_and_east
    visit = visit_book(repair=repair_at(shop, 121.59), window_start=tuesday(10))

    # when
    with pytest.raises(ApplicationError) as refusal:
        dispatch_day_plan(merchant=shop, day=TUESDAY, actor=west.user)

    # then
    assert refusal.value.code == "permission_denied"
    visit.refresh_from_db()
    assert visit.planned_start is None


def test_a_visit_for_a_skill_nobody_has_is_reported_unassigned_by_the_preview(clock, shop, west_and_east):
    # given: a boiler repair booked by staff though no technician knows boilers
    repair = repair_at(shop, 121.5)
    repair.product.category = "boilers"
    repair.product.save()
    Visit.objects.create(merchant=shop, repair=repair, window_start=tuesday(10), window_end=tuesday(12))

    # when
    preview = plan_preview(shop, TUESDAY)

    # then
    assert preview.plan.reasons == {Visit.objects.get(repair=repair).pk: UnassignedReason.NO_SKILL}


def test_the_plan_counts_a_skill_level_only_as_a_number_as_availability_does(clock, shop, west_and_east):
    # given: a boiler repair booked by staff; West holds boilers as a boolean, East as a string
    west, east = west_and_east
    west.skills = {"boilers": True}
    west.save()
    east.skills = {"boilers": "3"}
    east.save()
    repair = repair_at(shop, 121.5)
    repair.product.category = "boilers"
    repair.product.save()
    Visit.objects.create(merchant=shop, repair=repair, window_start=tuesday(10), window_end=tuesday(12))

    # when
    preview = plan_preview(shop, TUESDAY)

    # then: neither counts (Python would take True for level 1), so nobody has the skill
    assert preview.plan.reasons == {Visit.objects.get(repair=repair).pk: UnassignedReason.NO_SKILL}

    # and a number does count
    east.skills = {"boilers": 1}
    east.save()
    again = plan_preview(shop, TUESDAY)
    assert again.plan.reasons == {}
    assert [visit.technician_id for visit in Visit.objects.filter(repair=repair)] == [None]  # a preview writes nothing


def test_a_technician_who_drops_out_loses_the_days_visits_to_the_others(clock, shop, supervisor, west_and_east):
    # given: West holds a visit on Tuesday
    west, east = west_and_east
    visit = visit_book(repair=repair_at(shop, 121.41), window_start=tuesday(14))
    Visit.objects.filter(pk=visit.pk).update(technician=west)

    # when: on Tuesday morning West calls in sick
    clock.move_to(tuesday(7))
    outcome = technician_drop_out(technician=west, day=TUESDAY, actor=supervisor, reason="Ill")

    # then
    visit.refresh_from_db()
    assert visit.technician_id == east.pk
    assert visit.planned_start is not None
    assert outcome is not None
    assert outcome.moved == 1
    assert TechnicianTimeOff.objects.filter(technician=west, starts_on=TUESDAY, ends_on=TUESDAY).count() == 1


def test_a_visit_booked_for_today_has_the_rest_of_the_day_replanned_with_nobody_relaying_it(
    shop, west_and_east, django_capture_on_commit_callbacks
):
    # given: Tuesday 9:00; the customer books 14:00 today in the portal
    with time_machine.travel(tuesday(9), tick=False):
        repair = repair_at(shop, 121.59)

        # when
        with django_capture_on_commit_callbacks(execute=True):
            visit = visit_book(repair=repair, window_start=tuesday(14), actor_customer=repair.customer)

    # then: the solver placed it with the nearer technician and gave it a planned start
    _west, east = west_and_east
    visit.refresh_from_db()
    assert (visit.technician_id, visit.planned_start) == (east.pk, tuesday(14))
    assert TicketEvent.objects.filter(ticket=repair.ticket, verb="visit_planned").count() == 1


def test_the_evening_plan_runs_for_merchants_whose_evening_it_is(shop, west_and_east):
    # given: 20:00 in Shanghai is 12:00 UTC; a merchant in London has technicians too
    london = MerchantFactory(slug="plan-london", timezone="Europe/London")
    TechnicianFactory(merchant=london, calendar=working_calendar(london, name="London"))

    # then
    assert merchants_for_evening_plan(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), hour=20) == [shop.pk]
    assert merchants_for_evening_plan(datetime(2026, 6, 1, 19, 0, tzinfo=UTC), hour=20) == [london.pk]


def test_the_evening_task_plans_tomorrow(clock, shop, west_and_east):
    # given: a visit tomorrow with nobody planned yet
    visit = visit_book(repair=repair_at(shop, 121.59), window_start=tuesday(10))

    # when: the beat's task runs at 20:00
    dispatch_evening_plans.delay()

    # then
    visit.refresh_from_db()
    assert (visit.technician_id, visit.planned_start) == (west_and_east[1].pk, tuesday(10))


def test_applying_a_plan_and_a_drop_out_move_the_load_counters_with_the_visits(clock, shop, supervisor, west_and_east):
    # given: both visits of Tuesday 10:00 handed to West by the supervisor
    west, east = west_and_east
    near_west = visit_book(repair=repair_at(shop, 121.41), window_start=tuesday(10))
    near_east = visit_book(repair=repair_at(shop, 121.59), window_start=tuesday(10))
    for visit in (near_west, near_east):
        visit_assign(visit=visit, actor=supervisor, technician=west)
    assert load_counters(shop) == ({(west.pk, tuesday(10)): 2}, {(west.pk, TUESDAY): 2})

    # when: the plan gives the eastern one to East
    dispatch_day_plan(merchant=shop, day=TUESDAY, actor=supervisor)

    # then
    assert load_counters(shop) == (
        {(west.pk, tuesday(10)): 1, (east.pk, tuesday(10)): 1},
        {(west.pk, TUESDAY): 1, (east.pk, TUESDAY): 1},
    )

    # when: on Tuesday morning East calls in sick (its visit goes back to West)
    clock.move_to(tuesday(7))
    technician_drop_out(technician=east, day=TUESDAY, actor=supervisor, reason="Ill")

    # then
    assert set(Visit.objects.filter(pk__in=[near_west.pk, near_east.pk]).values_list("technician_id", flat=True)) == {
        west.pk
    }
    assert load_counters(shop) == ({(west.pk, tuesday(10)): 2}, {(west.pk, TUESDAY): 2})


def load_counters(shop):
    windows = {
        (t, w): v
        for t, w, v in TechnicianWindowLoad.objects.filter(merchant=shop, visits__gt=0).values_list(
            "technician_id", "window_start", "visits"
        )
    }
    days = {
        (t, d): v
        for t, d, v in TechnicianDayLoad.objects.filter(merchant=shop, visits__gt=0).values_list(
            "technician_id", "day", "visits"
        )
    }
    return windows, days


def test_applying_a_plan_that_places_no_visit_changes_nothing_and_does_not_fail(clock, shop, supervisor, west_and_east):
    # given: the only visit of the day has no coordinates, so the planner cannot place it
    repair = OnSiteRepairFactory(merchant=shop, latitude=None, longitude=None)
    visit = visit_book(repair=repair, window_start=tuesday(10))
    loads = list(TechnicianWindowLoad.objects.values_list("technician_id", "visits"))

    # when
    outcome = dispatch_day_plan(merchant=shop, day=TUESDAY, actor=supervisor)

    # then
    assert (outcome.moved, outcome.customers_told) == (0, 0)
    visit.refresh_from_db()
    assert visit.planned_start is None
    assert list(TechnicianWindowLoad.objects.values_list("technician_id", "visits")) == loads
