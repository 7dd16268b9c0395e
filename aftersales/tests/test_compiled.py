"""A compiled read runs one statement per shape with each call's values, and refuses what it cannot."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from aftersales.compiled import CompiledRead, CompiledReadError, CompiledUpdate
from aftersales.models import Membership, Merchant, Store
from aftersales.tests.factories import MembershipFactory, MerchantFactory, StoreFactory, UserFactory


def _stores(*, shape: str, merchant_id: int, name: str):
    stores = Store.objects.filter(merchant_id=merchant_id).select_related("merchant").order_by("pk")
    if shape == "named":
        stores = stores.filter(name=name)
    return stores.annotate(staff=Count("merchant__memberships", filter=Q(merchant__memberships__is_active=True)))


@pytest.mark.django_db
def test_each_call_reads_its_own_values_through_one_statement(django_assert_num_queries):
    first, second = MerchantFactory(), MerchantFactory()
    ours = StoreFactory(merchant=first, name="Ours")
    StoreFactory(merchant=first, name="Other")
    theirs = StoreFactory(merchant=second, name="Ours")
    MembershipFactory(merchant=first, user=UserFactory(), role=Membership.Role.AGENT)
    read = CompiledRead(_stores, params={"merchant_id": int, "name": str})

    with django_assert_num_queries(1):
        rows = read.rows(shape="named", merchant_id=first.pk, name="Ours")
    assert [(row.pk, row.merchant.slug, row.staff) for row in rows] == [(ours.pk, first.slug, 1)]
    compiled = read._compiled[("named", "default")]

    # Another merchant's values, the same compiled statement: only that merchant's row.
    rows = read.rows(shape="named", merchant_id=second.pk, name="Ours")
    assert [(row.pk, row.merchant_id, row.staff) for row in rows] == [(theirs.pk, second.pk, 0)]
    assert read._compiled[("named", "default")] is compiled
    assert read.first(shape="named", merchant_id=second.pk, name="Nobody's") is None

    # Another shape is compiled apart; a value it does not use is not in its statement.
    assert [row.name for row in read.rows(shape="all", merchant_id=first.pk, name="unused")] == ["Ours", "Other"]
    assert len(read._compiled) == 2


@pytest.mark.django_db
def test_a_value_the_build_transforms_is_refused_at_compile_time():
    merchant = MerchantFactory()
    upper = CompiledRead(lambda *, shape, slug: Merchant.objects.filter(slug=slug.upper()), params={"slug": str})
    with pytest.raises(CompiledReadError, match="computed from a value"):
        upper.first(shape=None, slug=merchant.slug)
    shifted = CompiledRead(lambda *, shape, pk: Merchant.objects.filter(pk=pk + 1), params={"pk": int})
    with pytest.raises(CompiledReadError, match="computed from a value"):
        shifted.first(shape=None, pk=merchant.pk)


@pytest.mark.django_db
def test_values_of_the_wrong_type_or_name_are_refused():
    read = CompiledRead(lambda *, shape, pk: Merchant.objects.filter(pk=pk), params={"pk": int})
    with pytest.raises(TypeError):
        read.first(shape=None, pk="1")
    with pytest.raises(TypeError):
        read.first(shape=None, pk=1, other=2)
    with pytest.raises(TypeError):
        read.first(shape=None, pk=True)


def _statement_name(sql: str) -> str:
    return sql.split()[1]


@pytest.mark.django_db
def test_a_prepared_read_prepares_once_a_session_and_reads_each_calls_values():
    # Given two merchants' stores and a prepared read
    first, second = MerchantFactory(), MerchantFactory()
    ours = StoreFactory(merchant=first, name="Ours")
    theirs = StoreFactory(merchant=second, name="Ours")
    StoreFactory(merchant=second, name="100% cotton")  # a % among the values
    read = CompiledRead(_stores, params={"merchant_id": int, "name": str}, prepared=True)

    # When it is called in this session for the first time, then again after a rolled-back transaction
    with CaptureQueriesContext(connection) as first_call:
        first_rows = read.rows(shape="named", merchant_id=first.pk, name="Ours")

    def read_then_roll_back():
        with transaction.atomic():
            read.rows(shape="named", merchant_id=second.pk, name="Ours")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        read_then_roll_back()
    with CaptureQueriesContext(connection) as later_calls:
        second_rows = read.rows(shape="named", merchant_id=second.pk, name="Ours")
        cotton = read.rows(shape="named", merchant_id=second.pk, name="100% cotton")

    # Then the first call prepared the statement and ran it, in one round trip; the later ones only
    # ran it (the PREPARE outlived the rollback), each with its own values
    assert [(row.pk, row.merchant.slug, row.staff) for row in first_rows] == [(ours.pk, first.slug, 0)]
    assert [(row.pk, row.merchant_id) for row in second_rows] == [(theirs.pk, second.pk)]
    assert [row.name for row in cotton] == ["100% cotton"]
    [prepare] = [query["sql"] for query in first_call.captured_queries]
    assert prepare.startswith("PREPARE compiled_read_")
    name = _statement_name(prepare)
    assert f"; EXECUTE {name}({first.pk}, 'Ours')" in prepare
    assert [query["sql"] for query in later_calls.captured_queries] == [
        f"EXECUTE {name}({second.pk}, 'Ours')",
        f"EXECUTE {name}({second.pk}, '100% cotton')",
    ]


@pytest.mark.django_db
def test_a_prepared_read_whose_session_lost_its_statement_fails_once_then_prepares_again():
    # Given a prepared read whose statement the session no longer has
    merchant = MerchantFactory()
    store = StoreFactory(merchant=merchant, name="Ours")
    read = CompiledRead(_stores, params={"merchant_id": int, "name": str}, prepared=True)
    with CaptureQueriesContext(connection) as first_call:
        read.rows(shape="named", merchant_id=merchant.pk, name="Ours")
    lost = _statement_name(first_call.captured_queries[0]["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {lost}")

    # When it is called: the call fails (and changes nothing); the next one prepares it again
    with pytest.raises(DatabaseError), transaction.atomic():
        read.rows(shape="named", merchant_id=merchant.pk, name="Ours")
    with CaptureQueriesContext(connection) as again:
        rows = read.rows(shape="named", merchant_id=merchant.pk, name="Ours")

    # Then it reads the row again, under a new name
    assert [row.pk for row in rows] == [store.pk]
    [sql] = [query["sql"] for query in again.captured_queries]
    assert sql.startswith("PREPARE compiled_read_")
    assert _statement_name(sql) != lost


@pytest.mark.django_db
def test_an_instant_is_a_parameter_each_call_reads_with_its_own():
    merchant = MerchantFactory()
    older, newer = StoreFactory(merchant=merchant, name="Older"), StoreFactory(merchant=merchant, name="Newer")
    Store.objects.filter(pk=older.pk).update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    Store.objects.filter(pk=newer.pk).update(created_at=datetime(2024, 6, 1, tzinfo=UTC))
    since = CompiledRead(
        lambda *, shape, merchant_id, since: Store.objects.filter(
            merchant_id=merchant_id, created_at__gte=since
        ).order_by("pk"),
        params={"merchant_id": int, "since": datetime},
    )

    assert [
        row.name for row in since.rows(shape=None, merchant_id=merchant.pk, since=datetime(2023, 1, 1, tzinfo=UTC))
    ] == [
        "Older",
        "Newer",
    ]
    assert [
        row.name for row in since.rows(shape=None, merchant_id=merchant.pk, since=datetime(2024, 3, 1, tzinfo=UTC))
    ] == ["Newer"]
    assert since.rows(shape=None, merchant_id=merchant.pk, since=datetime(2025, 1, 1, tzinfo=UTC)) == []
    assert len(since._compiled) == 1
    # A naive instant would be read in the connection's zone: refused.
    with pytest.raises(TypeError, match="aware"):
        since.rows(shape=None, merchant_id=merchant.pk, since=datetime(2024, 3, 1))


@pytest.mark.django_db
def test_an_instant_the_build_computes_from_is_refused_at_compile_time():
    shifted = CompiledRead(
        lambda *, shape, since: Store.objects.filter(created_at__gte=since - timedelta(days=30)),
        params={"since": datetime},
    )
    with pytest.raises(CompiledReadError, match="computed from a value"):
        shifted.rows(shape=None, since=datetime(2024, 3, 1, tzinfo=UTC))


def _renaming(*, shape, merchant_id: int, name: str, now: datetime):
    return Store.objects.filter(merchant_id=merchant_id, name=name), {"name": Concat(F("name"), Value(" (old)"))}


@pytest.mark.django_db
def test_a_compiled_update_changes_each_calls_rows_through_one_prepared_statement():
    # Given two merchants' stores named alike, and a prepared update of a merchant's store by name
    first, second = MerchantFactory(), MerchantFactory()
    ours = StoreFactory(merchant=first, name="Ours")
    other = StoreFactory(merchant=first, name="Other")
    theirs = StoreFactory(merchant=second, name="Ours")
    update = CompiledUpdate(_renaming, params={"merchant_id": int, "name": str, "now": datetime}, prepared=True)
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)

    # When it runs for the first merchant, then for the second, then for a name no store has
    with CaptureQueriesContext(connection) as calls:
        changed_first = update.run(merchant_id=first.pk, name="Ours", now=now)
        changed_second = update.run(merchant_id=second.pk, name="Ours", now=now)
        changed_none = update.run(merchant_id=second.pk, name="Nobody's", now=now)

    # Then each changed its own rows only, and said how many, through one statement prepared once
    assert (changed_first, changed_second, changed_none) == (1, 1, 0)
    assert {store.pk: store.name for store in Store.objects.filter(pk__in=[ours.pk, other.pk, theirs.pk])} == {
        ours.pk: "Ours (old)",
        other.pk: "Other",
        theirs.pk: "Ours (old)",
    }
    sqls = [query["sql"] for query in calls.captured_queries]
    assert len(sqls) == 3
    assert sqls[0].startswith("PREPARE compiled_read_")
    name = _statement_name(sqls[0])
    assert sqls[1:] == [f"EXECUTE {name}({second.pk}, 'Ours')", f"EXECUTE {name}({second.pk}, 'Nobody''s')"]


@pytest.mark.django_db
def test_a_compiled_update_writes_the_sql_that_update_writes():
    merchant = MerchantFactory()
    StoreFactory(merchant=merchant, name="Ours")
    update = CompiledUpdate(_renaming, params={"merchant_id": int, "name": str, "now": datetime})
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    queryset, changes = _renaming(shape=None, merchant_id=merchant.pk, name="Ours", now=now)
    with CaptureQueriesContext(connection) as plain, transaction.atomic():
        assert queryset.update(**changes) == 1
        transaction.set_rollback(True)
    with CaptureQueriesContext(connection) as compiled:
        assert update.run(merchant_id=merchant.pk, name="Ours", now=now) == 1
    [plain_sql] = [query["sql"] for query in plain.captured_queries if query["sql"].startswith("UPDATE")]
    assert [query["sql"] for query in compiled.captured_queries] == [plain_sql]


@pytest.mark.django_db
def test_a_compiled_update_that_fails_marks_the_transaction_for_rollback_and_refuses_transformed_values():
    merchant = MerchantFactory()
    StoreFactory(merchant=merchant, name="Ours")
    too_long = CompiledUpdate(
        lambda *, shape, merchant_id: (Store.objects.filter(merchant_id=merchant_id), {"name": "x" * 1000}),
        params={"merchant_id": int},
    )
    with transaction.atomic():
        with pytest.raises(DatabaseError):
            too_long.run(merchant_id=merchant.pk)
        # As after a failed update(): the block can only roll back.
        assert transaction.get_rollback() is True
    shifted = CompiledUpdate(lambda *, shape, pk: (Store.objects.filter(pk=pk + 1), {"name": "x"}), params={"pk": int})
    with pytest.raises(CompiledReadError, match="computed from a value"):
        shifted.run(pk=1)
    assert list(Store.objects.filter(merchant=merchant).values_list("name", flat=True)) == ["Ours"]
