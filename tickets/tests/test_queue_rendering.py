"""The queue's pieces written in Python write what Django writes: its selects (``QueueSelect``)
what the select's templates write, the times' titles (``_PageDateFormat``) what ``dateformat``
writes, in either language."""

from datetime import UTC, datetime, timedelta

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import dateformat, translation
from django.utils.formats import get_format

from aftersales.models import Membership
from aftersales.templatetags.dashboard_tags import _PageDateFormat
from aftersales.tests.factories import MembershipFactory
from tickets.forms.dashboard import QueueBulkForm, QueueFilterForm, SavedViewForm
from tickets.selectors import teams_of
from tickets.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

TRICKY = 'Zoë <b> & "q" \'s'


def _as_django_writes_it(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        if isinstance(field.widget, forms.Select):
            field.widget.__class__ = forms.Select
    form.renderer = DjangoTemplates()
    return form


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {"kind": "return", "status": "all", "assignee": "me", "priority": "3", "sort": "deadline"},
        {"kind": "nonsense", "status": "waiting_customer", "assignee": "none", "priority": "9"},
    ],
    ids=["unbound", "chosen", "invalid"],
)
def test_the_queue_forms_selects_write_what_djangos_templates_write(merchant, agent, language, data):
    # Given staff and a team whose names need escaping
    staff = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    staff.first_name, staff.last_name = TRICKY, "<i>"
    staff.save()
    team = TeamFactory(merchant=merchant, name=TRICKY)
    team.members.add(agent)
    teams = teams_of(merchant).filter(members=agent.pk)
    data = dict(data, assignee=str(staff.pk)) if data and data["assignee"] == "me" else data

    with translation.override(language):
        # When the queue's forms are written, and written again by Django's Select and templates
        filter_form = QueueFilterForm(data, merchant=merchant)
        written = {name: str(filter_form[name]) for name in ("kind", "status", "assignee", "priority", "sort")}
        bulk_form = QueueBulkForm(staff_choices=filter_form.staff_choices)
        written |= {f"bulk {name}": str(bulk_form[name]) for name in ("action", "assignee", "status", "priority")}
        written["team"] = str(SavedViewForm(teams=teams)["team"])

        by_django = _as_django_writes_it(QueueFilterForm(data, merchant=merchant))
        expected = {name: str(by_django[name]) for name in ("kind", "status", "assignee", "priority", "sort")}
        bulk_by_django = _as_django_writes_it(QueueBulkForm(staff_choices=by_django.staff_choices))
        expected |= {f"bulk {name}": str(bulk_by_django[name]) for name in ("action", "assignee", "status", "priority")}
        expected["team"] = str(
            _as_django_writes_it(SavedViewForm(teams=teams_of(merchant).filter(members=agent.pk)))["team"]
        )

    # Then every select is the same, byte for byte, escaping included
    assert written == expected
    assert "Zoë &lt;b&gt; &amp; &quot;q&quot; &#x27;s" in written["assignee"]
    assert written["team"].count("<option") == 2
    if data is not None and data["kind"] == "return":
        assert '<option value="return" selected>' in written["kind"]


def _instants() -> list[datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Midnight, noon, on the hour and off it, a.m. and p.m., every month and weekday.
    return [
        start + timedelta(days=day, minutes=minute) for day in range(0, 365, 17) for minute in (0, 30, 720, 750, 1439)
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("format_name", ["SHORT_DATETIME_FORMAT", "DATETIME_FORMAT", r"a A P b E F M N D l jS \Y"])
def test_the_rows_date_titles_are_what_dateformat_writes(language, format_name):
    with translation.override(language):
        format_string = get_format(format_name) if format_name.isupper() else format_name
        page_format = _PageDateFormat(format_string)

        written = [page_format(instant) for instant in _instants()]

        assert written == [dateformat.format(instant, format_string) for instant in _instants()]
        assert len(set(written)) == len(_instants())
