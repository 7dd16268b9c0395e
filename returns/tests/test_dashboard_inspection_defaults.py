"""The inspection form's own defaults are an inspection the service takes: every unit received
accepted, restocked. A line with nothing accepted ignores a destination left chosen, and a line
with units accepted and no destination is refused on that field, changing nothing."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from aftersales.tests.builders import flash_messages
from returns.models import ReturnLine, ReturnRequest, ReturnStatus
from returns.tests.builders import drive, every_resolution_world, submit

pytestmark = pytest.mark.django_db


class FormDefaults(HTMLParser):
    """The values a browser would post for the form whose aria-label is ``label``, untouched."""

    def __init__(self, label: str):
        super().__init__()
        self.label, self.inside = label, False
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("aria-label") == self.label
        if not self.inside:
            return
        if tag == "input" and attrs.get("type") not in {"file", "submit"}:
            self.values[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self.select, self.first_option = attrs["name"], None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = attrs.get("value", "")
            if "selected" in attrs:
                self.values[self.select] = attrs.get("value", "")
        elif tag == "textarea":
            self.values[attrs["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.values.setdefault(self.select, self.first_option or "")
            self.select = None


def defaults_of(page: str, label: str) -> dict:
    parser = FormDefaults(label)
    parser.feed(page)
    return parser.values


@pytest.fixture
def world():
    return every_resolution_world()


@pytest.fixture
def received(world):
    return drive(world, submit(world), ReturnStatus.RECEIVED)


def page_of(client, return_request) -> str:
    return client.get(reverse("dashboard:return", kwargs={"number": return_request.ticket.number})).content.decode()


def inspect_url(return_request) -> str:
    return reverse("dashboard:return_inspect", kwargs={"number": return_request.ticket.number})


def test_the_inspection_form_sent_as_it_comes_accepts_and_restocks_every_unit(client, world, received):
    # Given the return page of a received parcel, the inspection form untouched
    client.force_login(world.agent)
    defaults = defaults_of(page_of(client, received), "Inspect")
    lines = list(ReturnLine.objects.filter(return_request=received).order_by("pk"))
    assert {defaults[f"disposition_{line.pk}"] for line in lines} == {"restock"}

    # When the agent sends it as it is
    response = client.post(inspect_url(received), defaults, follow=True)

    # Then the inspection is recorded: every unit accepted and restocked
    assert flash_messages(response) == ["Inspection recorded."]
    received.refresh_from_db()
    assert received.status == ReturnStatus.INSPECTED
    lines = list(ReturnLine.objects.filter(return_request=received).order_by("pk").select_related("inspection"))
    assert [(line.quantity_accepted, line.quantity_rejected) for line in lines] == [(2, 0), (1, 0)]
    assert [line.inspection.disposition for line in lines] == ["restock", "restock"]


def test_a_line_with_nothing_accepted_ignores_the_destination_left_chosen(client, world, received):
    client.force_login(world.agent)
    defaults = defaults_of(page_of(client, received), "Inspect")
    _first, second = ReturnLine.objects.filter(return_request=received).order_by("pk")
    defaults |= {f"accepted_{second.pk}": "0", f"rejected_{second.pk}": "1", f"grade_{second.pk}": "unusable"}

    response = client.post(inspect_url(received), defaults, follow=True)

    assert flash_messages(response) == ["Inspection recorded."]
    second.refresh_from_db()
    assert (second.quantity_accepted, second.quantity_rejected, second.inspection.disposition) == (0, 1, "")


def test_accepted_units_without_a_destination_are_refused_on_that_field_and_nothing_changes(client, world, received):
    client.force_login(world.agent)
    defaults = defaults_of(page_of(client, received), "Inspect")
    first = ReturnLine.objects.filter(return_request=received).order_by("pk").first()
    defaults[f"disposition_{first.pk}"] = ""

    response = client.post(inspect_url(received), defaults)

    assert response.status_code == 400
    assert response.context["inspect_form"].errors == {
        f"disposition_{first.pk}": ["Pick what happens to the accepted units."]
    }
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.RECEIVED
