"""One English word, two Chinese ones: "Name" is 姓名 for a person and 名称 for a thing."""

import re

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from tickets.tests.factories import MacroFactory

pytestmark = pytest.mark.django_db


def _labels(page: str) -> list[str]:
    return re.findall(r"<(?:th|dt)[^>]*>(姓名|名称)</(?:th|dt)>", page)


def test_a_customers_name_is_xingming_and_a_macros_is_mingcheng(client, merchant, make_ticket):
    # Given a case and a macro
    ticket = make_ticket()
    MacroFactory(merchant=merchant, name="退款说明")
    supervisor = MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    client.force_login(supervisor)

    # When a Chinese-speaking supervisor opens the case and the macros
    case = client.get(reverse("dashboard:ticket", args=[ticket.number]), HTTP_ACCEPT_LANGUAGE="zh-CN")
    macros = client.get(reverse("dashboard:macros"), HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then the customer's name is labelled as a person's, the macro's as a thing's
    assert (case.status_code, macros.status_code) == (200, 200)
    assert _labels(case.content.decode()) == ["姓名"]
    assert _labels(macros.content.decode()) == ["名称"]
