"""The configuration a process keeps (``aftersales.config_cache``): seen by every process within a
second of its commit, never a rolled-back value, and never one merchant's for another.

"Another process" is played by this one forgetting what it keeps (``config_forget_process``):
all a second process shares with the first is the database and the cache that holds the versions.
"""

import pytest
from django.db import models, transaction

from aftersales import config_cache
from aftersales.config_cache import VERSION_TRUST_SECONDS, config_cached, config_changed, config_forget_process
from aftersales.models import Merchant, User, WebhookEndpoint
from aftersales.selectors import merchant_active_by_slug
from aftersales.services.webhooks import webhook_event_queue
from aftersales.tests.factories import MerchantFactory, UserFactory
from returns.models import ReturnPolicy, ReturnRule
from returns.selectors import return_policy_in_force, return_reasons_active
from returns.tests.factories import ReturnReasonFactory
from tickets.models import RoutingRule
from tickets.tests.factories import RoutingRuleFactory, TeamFactory

# Committed rows: what one process commits is what the other one reads.
pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _a_fresh_process():
    config_forget_process()
    yield
    config_forget_process()


def _policy(merchant, *, window_days=30, position=1):
    policy = ReturnPolicy.objects.create(merchant=merchant, ship_by_days=7)
    policy.rules.create(position=position, name="All", window_days=window_days, allowed_resolutions=["refund"])
    return policy


def _rules_window_days(merchant):
    _policy_row, rules = return_policy_in_force(merchant_id=merchant.pk)
    return [rule.window_days for rule in rules]


def test_a_kept_configuration_is_read_from_the_database_once(django_assert_num_queries):
    merchant = MerchantFactory.create()
    _policy(merchant)
    assert _rules_window_days(merchant) == [30]

    assert merchant_active_by_slug(merchant.slug).pk == merchant.pk

    with django_assert_num_queries(0):
        assert _rules_window_days(merchant) == [30]
        assert merchant_active_by_slug(merchant.slug).pk == merchant.pk


def test_the_other_process_serves_its_kept_value_for_less_than_a_second_then_the_new_one(monkeypatch):
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    now = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: now[0])
    # Given a second process that has just read and kept the rules
    config_forget_process()
    assert _rules_window_days(merchant) == [30]
    other_values, other_versions = dict(config_cache._values), dict(config_cache._versions)
    # When the first process commits a change
    config_forget_process()
    policy.rules.update(window_days=45)
    assert _rules_window_days(merchant) == [45]
    # Then the second process, 0.5 s later, may still serve what it kept (it trusts its version)
    config_forget_process()
    config_cache._values.update(other_values)
    config_cache._versions.update(other_versions)
    now[0] += VERSION_TRUST_SECONDS / 2
    assert _rules_window_days(merchant) == [30]
    # and a second after its reading, it reads the new version and the new rules
    now[0] += VERSION_TRUST_SECONDS / 2
    assert _rules_window_days(merchant) == [45]


def test_a_rolled_back_change_is_never_kept_nor_served():
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    assert _rules_window_days(merchant) == [30]

    # When a transaction changes the rules, reads them (its own write), then rolls back
    seen_inside = []

    def change_then_fail():
        with transaction.atomic():
            policy.rules.update(window_days=90)
            seen_inside.append(_rules_window_days(merchant))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen_inside == [[90]]

    # Then neither this process nor another serves the rolled-back value
    assert _rules_window_days(merchant) == [30]
    config_forget_process()
    assert _rules_window_days(merchant) == [30]


def test_a_value_read_while_a_change_is_uncommitted_is_not_kept():
    merchant = MerchantFactory.create()
    policy = _policy(merchant)

    with transaction.atomic():
        policy.rules.update(window_days=90)
        assert _rules_window_days(merchant) == [90]
        assert config_cache._values == {}
    # Committed: the next reading keeps the committed rules
    assert _rules_window_days(merchant) == [90]
    assert len(config_cache._values) == 1


def test_one_merchants_configuration_is_never_served_for_another():
    shop, other = MerchantFactory.create(), MerchantFactory.create()
    _policy(shop, window_days=30)
    _policy(other, window_days=15)
    ReturnReasonFactory.create(merchant=shop, code="shop_reason")
    ReturnReasonFactory.create(merchant=other, code="other_reason")

    assert _rules_window_days(shop) == [30]
    assert _rules_window_days(other) == [15]
    assert [reason.code for reason in return_reasons_active(merchant=shop)] == ["shop_reason"]
    assert [reason.code for reason in return_reasons_active(merchant=other)] == ["other_reason"]
    # and a change of one merchant's configuration leaves the other's kept value alone
    ReturnPolicy.objects.get(merchant=other).rules.update(window_days=20)
    assert _rules_window_days(shop) == [30]
    assert _rules_window_days(other) == [20]


def test_a_deactivated_merchant_is_no_longer_found_by_its_slug():
    merchant = MerchantFactory.create(slug="tea-house")
    assert merchant_active_by_slug("tea-house").pk == merchant.pk

    Merchant.objects.filter(pk=merchant.pk).update(is_active=False)

    assert merchant_active_by_slug("tea-house") is None


def test_a_new_webhook_endpoint_gets_the_next_event():
    merchant = MerchantFactory.create()
    assert webhook_event_queue(merchant=merchant.pk, event="return.status_changed", data={}) == []

    WebhookEndpoint.objects.create(merchant=merchant, url="https://hooks.example.com/in", events=[])

    queued = webhook_event_queue(merchant=merchant.pk, event="return.status_changed", data={})
    assert [notification.recipient for notification in queued] == ["https://hooks.example.com/in"]


def test_callers_get_copies_so_what_a_request_sets_reaches_no_other():
    merchant = MerchantFactory.create(name="Tea house")
    first = merchant_active_by_slug(merchant.slug)
    first.name = "Changed by a request"

    assert merchant_active_by_slug(merchant.slug).name == "Tea house"


def test_without_a_reachable_cache_every_read_goes_to_the_database(monkeypatch, django_assert_num_queries):
    merchant = MerchantFactory.create()
    _policy(merchant)

    def unreachable(*args, **kwargs):
        raise ConnectionError

    monkeypatch.setattr(config_cache.cache, "get", unreachable)
    config_forget_process()
    assert _rules_window_days(merchant) == [30]
    with django_assert_num_queries(2):
        assert _rules_window_days(merchant) == [30]


def test_a_version_the_cache_lost_never_brings_back_an_older_value():
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    assert _rules_window_days(merchant) == [30]
    # When the cache loses the version (an eviction, a restart) and the rules change meanwhile
    config_cache.cache.delete(config_cache._version_key(config_cache.merchant_scope(merchant.pk)))
    # (a write that does not go through the configuration models' hooks: nothing bumps)
    models.QuerySet(model=ReturnRule).filter(policy=policy).update(window_days=45)
    config_cache._versions.clear()  # past the trust second

    # Then the next reading starts a version never used before and reads the rules again
    assert _rules_window_days(merchant) == [45]


def test_config_cached_keeps_nothing_for_none():
    calls = []

    def load():
        calls.append(1)

    assert config_cached("nothing", load, merchant_id=None) is None
    assert config_cached("nothing", load, merchant_id=None) is None
    assert calls == [1, 1]


def test_a_change_inside_an_outer_transaction_bumps_once_it_commits():
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    assert _rules_window_days(merchant) == [30]
    with transaction.atomic():
        config_changed([merchant.pk])
        policy.rules.update(window_days=60)
    assert _rules_window_days(merchant) == [60]


def test_a_value_is_read_again_after_its_maximum_age_whatever_bypassed_the_hooks(monkeypatch):
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    now = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: now[0])
    config_forget_process()
    assert _rules_window_days(merchant) == [30]
    # When a write bypasses the hooks (no version bump)
    models.QuerySet(model=ReturnRule).filter(policy=policy).update(window_days=45)
    # Then the kept value is served until its maximum age, then read again
    now[0] += config_cache.MAX_AGE_SECONDS / 2
    assert _rules_window_days(merchant) == [30]
    now[0] += config_cache.MAX_AGE_SECONDS / 2
    assert _rules_window_days(merchant) == [45]


# --- deletes Django's collector runs itself ------------------------------------------------------


def _routing_rules(merchant):
    """The merchant's routing rules as ``ticket_route`` keeps them (the same name and scope)."""
    return config_cached(
        "routing_rules",
        lambda: list(RoutingRule.objects.filter(merchant_id=merchant.pk, is_active=True).order_by("position")),
        merchant_id=merchant.pk,
    )


def test_deleting_a_team_a_routing_rule_names_is_seen_by_another_process_within_a_second(monkeypatch):
    merchant, other_merchant = MerchantFactory.create(), MerchantFactory.create()
    team = TeamFactory.create(merchant=merchant)
    RoutingRuleFactory.create(merchant=merchant, set_team=team)
    RoutingRuleFactory.create(merchant=other_merchant)
    now = [1000.0]
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: now[0])
    # Given a second process that has read and kept both merchants' rules
    config_forget_process()
    assert [rule.set_team_id for rule in _routing_rules(merchant)] == [team.pk]
    assert len(_routing_rules(other_merchant)) == 1
    other_values, other_versions = dict(config_cache._values), dict(config_cache._versions)
    other_version = config_cache.cache.get(config_cache._version_key(config_cache.merchant_scope(other_merchant.pk)))
    # When the first process deletes the team (the collector sets the rule's team to NULL itself)
    config_forget_process()
    team.delete()
    # Then the second process, once it checks the version again, reads the rule without the team
    config_forget_process()
    config_cache._values.update(other_values)
    config_cache._versions.update(other_versions)
    now[0] += VERSION_TRUST_SECONDS
    assert [rule.set_team_id for rule in _routing_rules(merchant)] == [None]
    # and the other merchant's version is untouched
    assert (
        config_cache.cache.get(config_cache._version_key(config_cache.merchant_scope(other_merchant.pk)))
        == other_version
    )


def test_deleting_a_user_a_routing_rule_assigns_to_bumps_the_merchants_version_after_commit():
    merchant = MerchantFactory.create()
    user = UserFactory.create()
    user_id = user.pk
    RoutingRuleFactory.create(merchant=merchant, set_assignee=user)
    assert [rule.set_assignee_id for rule in _routing_rules(merchant)] == [user_id]
    key = config_cache._version_key(config_cache.merchant_scope(merchant.pk))
    before = config_cache.cache.get(key)
    # A rolled-back delete bumps nothing
    with transaction.atomic():
        user.delete()
        transaction.set_rollback(True)
    assert config_cache.cache.get(key) == before
    assert [rule.set_assignee_id for rule in _routing_rules(merchant)] == [user_id]
    # A committed one does, and this process reads the rule without its assignee at once
    User.objects.filter(pk=user_id).delete()
    assert config_cache.cache.get(key) == before + 1
    assert [rule.set_assignee_id for rule in _routing_rules(merchant)] == [None]


def test_a_cascade_that_deletes_configuration_rows_bumps_their_merchants_version():
    merchant = MerchantFactory.create()
    policy = _policy(merchant)
    assert _rules_window_days(merchant) == [30]
    key = config_cache._version_key(config_cache.merchant_scope(merchant.pk))
    before = config_cache.cache.get(key)
    # The policy's queryset delete cascades to its rules through the collector
    models.QuerySet(model=ReturnPolicy).filter(pk=policy.pk).delete()
    assert config_cache.cache.get(key) > before
    assert return_policy_in_force(merchant_id=merchant.pk) == (None, [])


@pytest.mark.parametrize("ending", ["committed without a bump", "rolled back"])
def test_a_transaction_that_wrote_configuration_does_not_keep_the_next_ones_from_the_cache(ending):
    # Given a merchant whose configuration one transaction wrote: a new merchant (which bumps
    # nothing at commit) or a change that was rolled back
    merchant = MerchantFactory.create()
    loads = []

    def load():
        loads.append(1)
        return ["rules"]

    class Undo(Exception):
        pass

    try:
        with transaction.atomic():
            config_changed([merchant.pk], bump=ending != "committed without a bump")
            assert config_cached("rules", load, merchant_id=merchant.pk) == ["rules"]  # its own writes
            if ending == "rolled back":
                raise Undo
    except Undo:
        pass
    assert len(loads) == 1

    # When the next transactions read it, as every message of a mail fetch does, never outside one
    for _ in range(3):
        with transaction.atomic():
            assert config_cached("rules", load, merchant_id=merchant.pk) == ["rules"]

    # Then the first of them read the database and the others the cache
    assert len(loads) == 2
