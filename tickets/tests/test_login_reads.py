"""What every staff request reads of its user (the memberships, the switcher's list) and every API
call of its key, and the queue's staff menus, are compiled statements, not caches: a change made
by another process is seen by the very next request, and nothing of another merchant is read."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import ApiKey, Membership, Merchant, User
from aftersales.selectors import api_key_by_prefix, staff_by_name
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory, api_key_for
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_a_revoked_membership_is_refused_on_the_next_request(staff_client, agent, merchant):
    # Given a staff member whose queue opens
    assert staff_client.get(reverse("dashboard:queue")).status_code == 200

    # When their membership is revoked behind the page's back (a bare update, as another process)
    Membership.objects.filter(user=agent, merchant=merchant).update(is_active=False)

    # Then the next request is refused
    assert staff_client.get(reverse("dashboard:queue")).status_code == 403


def test_a_deactivated_merchant_or_user_is_refused_on_the_next_request(staff_client, agent, merchant):
    assert staff_client.get(reverse("dashboard:queue")).status_code == 200

    Merchant.objects.filter(pk=merchant.pk).update(is_active=False)
    assert staff_client.get(reverse("dashboard:queue")).status_code == 403

    Merchant.objects.filter(pk=merchant.pk).update(is_active=True)
    assert staff_client.get(reverse("dashboard:queue")).status_code == 200

    User.objects.filter(pk=agent.pk).update(is_active=False)
    response = staff_client.get(reverse("dashboard:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_the_switcher_lists_only_the_users_own_active_memberships_by_merchant_name(agent, merchant):
    # Given the agent's membership of a second merchant, a lapsed one, and another user's
    second = MembershipFactory(user=agent, merchant=MerchantFactory(name="Aaa first")).merchant
    MembershipFactory(user=agent, merchant=MerchantFactory(name="Lapsed"), is_active=False)
    MembershipFactory(merchant=MerchantFactory(name="Not theirs"))
    client = Client()
    client.force_login(agent)

    # When a page is read
    response = client.get(reverse("dashboard:queue"))

    # Then the switcher offers exactly their two active merchants, by name
    assert [m.merchant_id for m in response.context["memberships"]] == [second.pk, merchant.pk]


def test_the_queue_menus_offer_this_merchants_active_staff_and_a_new_member_at_once(staff_client, agent, merchant):
    # Given staff of this merchant, a deactivated one and another merchant's
    named = MembershipFactory(merchant=merchant, user=UserFactory(first_name="Zoe", username="zoe")).user
    MembershipFactory(merchant=merchant, is_active=False)
    MembershipFactory(merchant=MerchantFactory())
    TicketFactory(merchant=merchant)
    before = [m.user_id for m in staff_by_name(merchant)]

    # When a member is added and the queue read again
    added = MembershipFactory(merchant=merchant, user=UserFactory(first_name="Adam", username="adam")).user
    response = staff_client.get(reverse("dashboard:queue"))

    # Then the menus list this merchant's active staff only, the new member among them
    assert sorted(before) == sorted([agent.pk, named.pk])
    assert sorted(pk for pk, _name in response.context["form"].staff_choices) == sorted(
        str(pk) for pk in (agent.pk, named.pk, added.pk)
    )
    listed = staff_by_name(merchant)
    assert [m.user_id for m in listed] == [
        u.pk for u in sorted((m.user for m in listed), key=lambda u: (u.first_name, u.username))
    ]


def test_a_revoked_api_key_is_refused_on_the_next_call(merchant):
    key, full_key = api_key_for(merchant, name="Sync")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    assert client.get(reverse("api:ticket-list")).status_code == 200
    assert api_key_by_prefix(key.prefix) == key

    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")

    assert client.get(reverse("api:ticket-list")).status_code == 401
    assert api_key_by_prefix("no-such") is None
