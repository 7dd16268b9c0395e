"""Chinese pages use Chinese punctuation where the template, not a translation, put it: a form
label ends with "：" (Django's own catalog leaves its label suffix ":"), and a routing rule's
actions read "小组：帐篷组；优先级：高" (the page glued "小组" + ": " + team + "; "), the semicolon only
between two actions, never after the last."""

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from tickets.models import TicketPriority
from tickets.tests.factories import RoutingRuleFactory, TeamFactory


class NoteForm(forms.Form):
    note = forms.CharField(label="备注")


def test_a_form_label_ends_with_the_full_width_colon_in_chinese():
    with translation.override("zh-hans"):
        label = NoteForm()["note"].label_tag()

    assert label == '<label for="id_note">备注：</label>'


def test_a_form_label_keeps_the_ascii_colon_in_english():
    with translation.override("en"):
        label = NoteForm()["note"].label_tag()

    assert label == '<label for="id_note">备注:</label>'


@pytest.mark.django_db
def test_the_routing_rules_say_their_actions_with_chinese_punctuation(client, merchant):
    # Given a rule that sets a team, a priority and tags
    supervisor = MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    team = TeamFactory(merchant=merchant, name="帐篷组")
    RoutingRuleFactory(
        merchant=merchant, name="帐篷", set_team=team, set_priority=TicketPriority.HIGH, add_tags=["帐篷", "破损"]
    )
    client.force_login(supervisor)

    # When a Chinese-speaking supervisor opens the routing page
    page = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then the actions read with Chinese colons, semicolons between them and list commas
    assert '<td data-label="则">小组：帐篷组；优先级：高；标签：帐篷、破损</td>' in page


@pytest.mark.django_db
def test_optional_fields_say_so_in_full_width_brackets_in_chinese(client, agent):
    # When a Chinese-speaking agent opens the new-case form (its optional fields marked by field_row)
    client.force_login(agent)
    page = client.get(reverse("dashboard:ticket_new"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then each optional field says （选填）, brackets and all from the translation
    assert '<span class="muted">（选填）</span>' in page
    assert "(选填)" not in page
