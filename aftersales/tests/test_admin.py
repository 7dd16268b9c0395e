import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.models import (
    ApiKey,
    BusinessCalendar,
    CalendarDay,
    Deadline,
    DeadlinePause,
    ExportJob,
    IdempotencyRecord,
    Membership,
    Notification,
    Order,
    PortalChallenge,
    WebhookEndpoint,
    WorkingHours,
)
from aftersales.services.api_keys import api_key_create
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory, StoreFactory
from tickets.models import (
    AgentProfile,
    Attachment,
    Email,
    Macro,
    Mailbox,
    PhoneCall,
    RoutingRule,
    SavedView,
    SlaBreach,
    SlaPolicy,
    SupportSettings,
    TeamAssignment,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketLink,
    TicketPriority,
    TicketStatus,
)
from tickets.services import ticket_create, ticket_set_tags
from tickets.services.calls import ticket_phone_call_log
from tickets.tests.builders_support_kb import support_kb_rows
from tickets.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"aftersales", "tickets"}
MODEL_ADMINS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in OUR_APPS),
    key=lambda model: model._meta.label,
)
_sequence = itertools.count(1)


def populate(merchant=None):
    """One more row of every model the admin shows, made the way the product makes them."""
    n = next(_sequence)
    order = OrderFactory(merchant=merchant) if merchant else OrderFactory()
    merchant = order.merchant
    line = OrderLineFactory(order=order, line_number="1")
    agent = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team = TeamFactory(merchant=merchant)
    ticket = ticket_create(
        merchant=merchant,
        kind=TicketKind.REPAIR,
        subject=f"Headlamp {n} does not charge",
        body="It stopped working.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
        order_lines=[line],
        assignee=agent,
        team=team,
    )
    ticket_set_tags(ticket=ticket, actor=agent, names=[f"tag-{n}"])
    # A background export the agent asked for (queued: no worker runs in this build).
    from aftersales.services.exports import export_job_request

    export_job_request(
        membership=Membership.objects.get(merchant=merchant, user=agent),
        source="tickets.queue",
        stem="queue",
        params={"kind": ["repair"]},
        file_format="csv",
    )
    Attachment.objects.create(
        merchant=merchant,
        ticket=ticket,
        message=ticket.messages.first(),
        file=f"attachments/{merchant.pk}/{n}.png",
        original_name="photo.png",
        content_type="image/png",
        size=100,
        sha256=f"{n:064d}",
    )
    api_key_create(merchant=merchant, name=f"ERP {n}")
    WebhookEndpoint.objects.create(merchant=merchant, url=f"https://erp.example.com/hooks/{n}")
    IdempotencyRecord.objects.create(
        merchant=merchant,
        key=f"refund-{n}",
        endpoint=f"returns.refund:{ticket.number}",
        request_hash=f"{n:064d}",
        response_status=201,
        response_body="{}",
    )
    PortalChallenge.objects.create(
        merchant=merchant,
        order=order,
        channel=PortalChallenge.Channel.EMAIL,
        destination=order.contact_email,
        code_hash=f"salt{n}$secret-hash-{n}",
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    Notification.objects.filter(ticket=ticket).update(state=Notification.State.FAILED, last_error="SMTP down")
    calendar = BusinessCalendar.objects.create(merchant=merchant, name=f"Desk {n}", team=team)
    WorkingHours.objects.create(calendar=calendar, weekday=0, start_minute=540, end_minute=1080)
    CalendarDay.objects.create(calendar=calendar, date=timezone.now().date(), kind=CalendarDay.Kind.HOLIDAY)
    now = timezone.now()
    deadline = Deadline.objects.create(
        merchant=merchant,
        ticket=ticket,
        kind="sla.resolution",
        state=Deadline.State.FAILED,
        started_at=now,
        due_at=now + timedelta(hours=8),
        attempts=5,
        last_error="boom",
    )
    DeadlinePause.objects.create(deadline=deadline, paused_at=now, resumed_at=now + timedelta(minutes=5))
    policy = SlaPolicy.objects.create(merchant=merchant, name=f"Repairs {n}", position=n, resolution_minutes=480)
    SlaBreach.objects.create(
        merchant=merchant,
        ticket=ticket,
        policy=policy,
        deadline=deadline,
        target="resolution",
        target_minutes=480,
        due_at=now,
        breached_at=now,
    )
    rule = RoutingRule.objects.create(merchant=merchant, name=f"Rule {n}", position=n, set_team=team, add_tags=["x"])
    rule.match_stores.set([order.store])
    TeamAssignment.objects.create(merchant=merchant, team=team)
    AgentProfile.objects.create(merchant=merchant, user=agent, status="available", languages=["en"])
    SupportSettings.objects.get_or_create(merchant=merchant)
    Macro.objects.create(merchant=merchant, name=f"Macro {n}", reply_en="Hi", reply_zh_hans="你好", owner=agent)
    SavedView.objects.create(merchant=merchant, owner=agent, name=f"Mine {n}", filters={"status": ["open"]}, team=team)
    duplicate = ticket_create(
        merchant=merchant,
        kind=TicketKind.SUPPORT,
        subject=f"Duplicate {n}",
        body="Again",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
    )
    TicketLink.objects.create(merchant=merchant, source=duplicate, target=ticket, kind="related", created_by=agent)
    support_kb_rows(merchant=merchant, order=order, n=n)
    mailbox = Mailbox.objects.create(
        merchant=merchant, name="Support", address=f"support{n}@shop.test", imap_password="imap-secret"
    )
    Email.objects.create(
        merchant=merchant,
        mailbox=mailbox,
        direction="in",
        message_id=f"<{n}@example.com>",
        sender=order.customer.email,
        disposition="threaded",
        ticket=ticket,
        ticket_message=ticket.messages.first(),
    )
    ticket_phone_call_log(ticket=ticket, actor=agent, direction="in", duration_seconds=95, summary="Called about it.")
    return ticket


def populate_twice():
    """Two rows of every model, of two merchants; the second one's ticket."""
    populate()
    return populate()


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("model", MODEL_ADMINS, ids=lambda model: model._meta.label)
def test_every_changelist_and_change_page_renders_for_a_superuser(admin_client, model, built_once):
    # Given rows of every model
    built_once("admin: two rows of every model", populate_twice)

    # When the operator opens the list and the first row
    listing = admin_client.get(changelist_url(model))
    obj = model._default_manager.order_by("pk").first()
    detail = admin_client.get(change_url(obj))

    # Then both render
    assert listing.status_code == 200
    assert detail.status_code == 200


@pytest.mark.parametrize("model", MODEL_ADMINS, ids=lambda model: model._meta.label)
def test_every_add_page_renders_or_is_refused(admin_client, model):
    # Given a superuser
    # When they open the add page
    response = admin_client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"))

    # Then it renders where adding is allowed, and is refused for what only services create
    system_written = {
        Ticket,
        TicketEvent,
        Notification,
        PortalChallenge,
        IdempotencyRecord,
        ExportJob,
        Deadline,
        SlaBreach,
        Attachment,
        TicketLink,
        Email,
        PhoneCall,
        *[m for m in MODEL_ADMINS if m._meta.model_name in ("message", "ticketnumbercounter", "agentload")],
        # The knowledge base's and complaints' rows: written by their services (versions, search
        # index, events), shown in the admin only.
        *[
            m
            for m in MODEL_ADMINS
            if m._meta.model_name
            in (
                "article",
                "articleversion",
                "articlefeedback",
                "deflection",
                "complaint",
                "complaintescalation",
                "compensation",
                "compensationcoupon",
                "regulatorcase",
            )
        ],
    }
    assert response.status_code == (403 if model in system_written else 200)


@pytest.mark.parametrize("model", MODEL_ADMINS, ids=lambda model: model._meta.label)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model, built_once):
    # Given a few rows of everything, over two merchants
    ticket = built_once("admin: two rows of every model", populate_twice)
    url = changelist_url(model)
    admin_client.get(url)  # warm the content-type and session caches
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200

    # When there are many more rows
    for _ in range(4):
        populate(merchant=ticket.merchant)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200

    # Then the page costs the same number of queries
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]


def test_ticket_and_order_changelists_are_pinned(admin_client):
    # Given many tickets and orders
    for _ in range(5):
        populate()
    admin_client.get(changelist_url(Ticket))

    # When their lists are shown
    with CaptureQueriesContext(connection) as tickets:
        admin_client.get(changelist_url(Ticket))
    with CaptureQueriesContext(connection) as orders:
        admin_client.get(changelist_url(Order))

    # Then each is a fixed handful: session, user, the middleware's membership and merchant lookups,
    # the count, the page with its related rows, and the date hierarchy's range and dates
    assert len(tickets) == 8, [query["sql"] for query in tickets.captured_queries]
    assert len(orders) == 8, [query["sql"] for query in orders.captured_queries]


@pytest.mark.parametrize(
    "model",
    [model for model in MODEL_ADMINS if admin.site._registry[model].search_fields],
    ids=lambda model: model._meta.label,
)
def test_every_search_box_works(admin_client, model, built_once):
    built_once("admin: a row of every model", populate)

    response = admin_client.get(changelist_url(model), {"q": "1001"})

    assert response.status_code == 200


def test_search_finds_a_ticket_by_number_and_an_order_by_number_and_a_customer_by_phone(admin_client):
    # Given two tickets of two orders of one merchant
    first = populate()
    second = populate(merchant=first.merchant)

    # When the operator searches each by what a caller would give
    by_number = admin_client.get(changelist_url(Ticket), {"q": second.number.lower()})
    by_order = admin_client.get(changelist_url(Order), {"q": first.order.external_number})
    by_phone = admin_client.get(changelist_url(first.customer.__class__), {"q": first.customer.phone})

    # Then exactly the one asked for is listed
    assert [t.pk for t in by_number.context["cl"].result_list] == [second.pk]
    assert [o.pk for o in by_order.context["cl"].result_list] == [first.order_id]
    assert [c.pk for c in by_phone.context["cl"].result_list] == [first.customer_id]


def test_adding_an_api_key_shows_the_key_once_and_stores_only_its_hash(admin_client, admin_user):
    # Given a merchant
    merchant = StoreFactory().merchant

    # When the operator adds a key
    response = admin_client.post(
        reverse("admin:aftersales_apikey_add"), {"merchant": merchant.pk, "name": "ERP"}, follow=True
    )

    # Then the key was made by the service, its full value shown in a message, never its hash
    api_key = ApiKey.objects.get(merchant=merchant)
    shown = [str(message) for message in get_messages(response.wsgi_request)] + [
        str(message) for message in response.context["messages"]
    ]
    full_key = next(word for text in shown for word in text.split() if word.startswith(f"{api_key.prefix}."))
    assert ApiKey.hash(full_key) == api_key.key_hash
    assert api_key.created_by == admin_user
    assert api_key.name == "ERP"
    page = admin_client.get(change_url(api_key)).content.decode()
    assert api_key.key_hash not in page
    assert full_key not in page
    assert api_key.key_hash not in admin_client.get(changelist_url(ApiKey)).content.decode()


def test_revoke_action_revokes_only_the_selected_keys(admin_client):
    # Given two keys
    merchant = StoreFactory().merchant
    chosen, _ = api_key_create(merchant=merchant, name="old")
    kept, _ = api_key_create(merchant=merchant, name="current")

    # When the operator revokes one
    response = admin_client.post(
        changelist_url(ApiKey), {"action": "revoke", "_selected_action": [chosen.pk]}, follow=True
    )

    # Then that one is revoked and the other still works
    assert response.status_code == 200
    chosen.refresh_from_db()
    kept.refresh_from_db()
    assert chosen.revoked_at is not None
    assert kept.revoked_at is None


def test_retry_action_puts_failed_notifications_back_in_the_queue(admin_client, django_capture_on_commit_callbacks):
    # Given a failed notification and a sent one
    ticket = populate()
    failed = Notification.objects.filter(ticket=ticket, state=Notification.State.FAILED).first()
    failed.attempts = 6
    failed.save(update_fields=["attempts"])
    sent = Notification.objects.create(
        merchant=ticket.merchant, channel="email", recipient="a@example.com", template="ticket_reply", language="en"
    )
    Notification.objects.filter(pk=sent.pk).update(state=Notification.State.SENT)

    # When the operator retries both
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            changelist_url(Notification), {"action": "retry", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )

    # Then the failed one is pending with fresh attempts and a send queued; the sent one is untouched
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.state, failed.attempts) == (Notification.State.PENDING, 0)
    assert failed.next_attempt_at <= timezone.now()
    assert sent.state == Notification.State.SENT
    assert len(callbacks) == 1


def test_retry_action_puts_a_failed_deadline_back_in_the_sweep(admin_client):
    ticket = populate()
    deadline = Deadline.objects.get(ticket=ticket)

    admin_client.post(changelist_url(Deadline), {"action": "retry", "_selected_action": [deadline.pk]}, follow=True)

    deadline.refresh_from_db()
    assert (deadline.state, deadline.attempts) == (Deadline.State.PENDING, 0)


def test_portal_challenge_page_never_shows_the_code_hash(admin_client):
    ticket = populate()
    challenge = PortalChallenge.objects.get(order=ticket.order)

    page = admin_client.get(change_url(challenge)).content.decode()

    assert challenge.destination in page
    assert "secret-hash" not in page


def test_ticket_admin_cannot_change_status_or_number_and_records_what_it_changes(admin_client, admin_user):
    # Given a new ticket
    ticket = populate()
    events_before = ticket.events.count()
    number = ticket.number

    # When the operator posts a new status, number and priority
    data = {
        "priority": TicketPriority.URGENT,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "tags": [tag.pk for tag in ticket.tags.all()],
        "status": TicketStatus.CLOSED,
        "number": "RP-999999",
        **_inline_management(admin_client, ticket),
    }
    response = admin_client.post(change_url(ticket), data)

    # Then only the priority changed, with an event on the timeline saying who did it
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    assert ticket.number == number
    assert ticket.priority == TicketPriority.URGENT
    assert ticket.events.count() == events_before + 1
    event = ticket.events.last()
    assert (event.verb, event.actor_user, event.data) == (
        TicketEvent.Verb.PRIORITY_CHANGED,
        admin_user,
        {"from": TicketPriority.NORMAL, "to": TicketPriority.URGENT, "via": "admin"},
    )


def test_ticket_admin_refuses_an_assignee_from_another_merchant(admin_client):
    # Given a ticket and a staff member of another merchant
    ticket = populate()
    outsider = MembershipFactory().user

    # When the operator assigns the outsider
    data = {
        "priority": ticket.priority,
        "assignee": outsider.pk,
        "team": ticket.team_id,
        "tags": [tag.pk for tag in ticket.tags.all()],
        **_inline_management(admin_client, ticket),
    }
    response = admin_client.post(change_url(ticket), data)

    # Then the form refuses and nothing changed
    assert response.status_code == 200
    assert "assignee" in response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert ticket.assignee_id != outsider.pk


def test_tickets_and_their_timeline_cannot_be_deleted(admin_client):
    ticket = populate()

    ticket_delete = admin_client.get(reverse("admin:tickets_ticket_delete", args=[ticket.pk]))
    event_delete = admin_client.get(reverse("admin:tickets_ticketevent_delete", args=[ticket.events.first().pk]))

    assert ticket_delete.status_code == 403
    assert event_delete.status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def _inline_management(client, ticket) -> dict:
    """The management forms of the ticket page's read-only inlines, as the browser posts them."""
    page = client.get(change_url(ticket))
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    return data
