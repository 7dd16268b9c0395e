"""The ticket page's pieces written in Python, or kept once rendered, write what its templates
wrote: the order box (``order_panel``), the other tickets' list (``ticket_items``), the short
dates (``short_datetime``), the timeline's times and bodies, the rows of the forms' constant
fields (kept per language, variant and value) and the fragments that read nothing of the page
(``constant_include``), in either language."""

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.defaultfilters import linebreaksbr
from django.test import override_settings
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format

from aftersales.templatetags import dashboard_frame
from aftersales.templatetags.dashboard_tags import _field_row, field_row, timeline_items
from tickets.forms.dashboard import NoteForm, PriorityForm, RemindForm, ReplyForm, StatusForm
from tickets.forms.mail import PhoneCallForm
from tickets.forms.support import LinkForm, MergeForm
from tickets.models import Ticket, TicketPriority, TicketStatus
from tickets.selectors import ticket_page_order_lines, ticket_page_timeline
from tickets.services import ticket_customer_message
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

TRICKY = 'Zoë <b> & "q" \'s'
LANGUAGES = ["en", "zh-hans"]

# The order box as the page's template wrote it.
ORDER_TEMPLATE = """{% load i18n %}    <section class="card" aria-labelledby="order-title">
      <h2 id="order-title">{% translate "Order" %}</h2>
      {% if order %}
      <dl class="details">
        <dt>{% translate "Number" %}</dt><dd>{{ order.external_number }}</dd>
        <dt>{% translate "Store" %}</dt><dd>{{ order.store }}</dd>
        <dt>{% translate "Placed" %}</dt><dd>{{ order.placed_at|date:"SHORT_DATETIME_FORMAT" }}</dd>
        <dt>{% translate "Shipped" %}</dt><dd>{{ order.shipped_at|date:"SHORT_DATETIME_FORMAT"|default:"—" }}</dd>
        <dt>{% translate "Delivered" %}</dt><dd>{{ order.delivered_at|date:"SHORT_DATETIME_FORMAT"|default:"—" }}</dd>
      </dl>
      <div class="table-wrap">
      <table class="lines">
        <caption class="visually-hidden">{% translate "Order lines" %}</caption>
        <thead><tr><th scope="col">{% translate "Item" %}</th><th scope="col" class="num">{% translate "Qty" %}</th><th scope="col" class="num">{% translate "Unit price" %}</th><th scope="col" class="num">{% translate "Paid" %}</th></tr></thead>
        <tbody>
          {% for line in order_lines %}
          <tr{% if line.pk in linked_line_ids %} class="lines__linked"{% endif %}>
            <td>{{ line.name }}<br><span class="muted small">{{ line.sku }}{% if line.pk in linked_line_ids %} · {% translate "in this ticket" %}{% endif %}</span></td>
            <td class="num">{{ line.quantity }}</td>
            <td class="num">{{ line.unit_price }}</td>
            <td class="num">{{ line.paid_amount }}</td>
          </tr>
          {% endfor %}
        </tbody>
        <tfoot>
          <tr><th scope="row" colspan="3">{% translate "Shipping" %}</th><td class="num">{{ order.shipping_amount }}</td></tr>
          <tr><th scope="row" colspan="3">{% translate "Total" %}</th><td class="num"><strong>{{ order_total }} {{ order.currency }}</strong></td></tr>
        </tfoot>
      </table>
      </div>
      {% else %}<p class="muted">{% translate "No order is linked to this ticket." %}</p>{% endif %}
    </section>
"""  # noqa: E501


def _without_blank_lines(html: str) -> list[str]:
    return [line.strip() for line in html.splitlines() if line.strip()]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("with_order", [True, False], ids=["order", "no order"])
def test_the_order_box_writes_what_its_template_wrote(make_ticket, order, language, with_order):
    # Given an order with a line the ticket names, names that need escaping, one line not shipped
    first_line, second_line = order.lines.order_by("line_number")
    order.external_number, order.shipped_at, order.delivered_at = TRICKY, None, None
    order.save()
    first_line.name, first_line.sku, first_line.unit_price = TRICKY, "<sku>", Decimal("1234.50")
    first_line.save()
    ticket = make_ticket(order_lines=[second_line]) if with_order else make_ticket(order=None)
    ticket = Ticket.objects.get(pk=ticket.pk)
    lines, linked = ticket_page_order_lines(ticket=ticket)
    context = {
        "order": ticket.order,
        "order_lines": lines,
        "linked_line_ids": linked,
        "order_total": sum((line.paid_amount for line in lines), ticket.order.shipping_amount) if with_order else None,
    }

    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        written = Template("{% load ticket_page_tags %}{% order_panel %}").render(Context(context))
        expected = Template(ORDER_TEMPLATE).render(Context(context))

    assert _without_blank_lines(written) == _without_blank_lines(expected)
    if with_order:
        assert written.count("lines__linked") == 1
        assert "Zoë &lt;b&gt; &amp; &quot;q&quot; &#x27;s" in written
        assert "1234.50" in written
    else:
        assert "<table" not in written


# The markup ``ticket_items`` replaced (with the status badge's include inlined).
OTHER_TICKETS_TEMPLATE = (
    "{% load dashboard_tags %}{% for other in tickets %}"
    "<li><a href=\"{% url 'dashboard:ticket' other.number %}\">{{ other.number }}</a> {{ other.subject }} "
    '<span class="badge badge--{{ other.status }}">{{ other.status|status_label }}</span></li>'
    "{% if not forloop.last %}\n{% endif %}{% endfor %}"
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_other_tickets_list_writes_what_its_template_wrote(merchant, language):
    tickets = [
        TicketFactory(merchant=merchant, subject=TRICKY, status=TicketStatus.WAITING_CUSTOMER),
        TicketFactory(merchant=merchant, subject="<script>x</script>", status=TicketStatus.CLOSED),
        TicketFactory(merchant=merchant, subject="Plain", status=TicketStatus.WAITING_CUSTOMER),
    ]
    with translation.override(language):
        written = Template("{% load ticket_page_tags %}{% ticket_items tickets %}").render(
            Context({"tickets": tickets})
        )
        expected = Template(OTHER_TICKETS_TEMPLATE).render(Context({"tickets": tickets}))

    assert written == expected
    assert written.count("<li>") == 3
    assert "&lt;script&gt;" in written


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 7, 14, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 5, 2, 9, 5),  # a naive value, as the filter may be given one
        None,
        "",
    ],
)
def test_short_datetime_writes_what_the_date_filter_writes(language, value):
    context = Context({"value": value})
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        written = Template("{% load dashboard_tags %}{{ value|short_datetime }}").render(context)
        expected = Template('{{ value|date:"SHORT_DATETIME_FORMAT" }}').render(context)

    assert written == expected
    assert (written == "") == (value in (None, ""))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_timelines_times_and_bodies_are_what_the_filters_write(make_ticket, order, language):
    ticket = make_ticket(body="First <b>line</b>\r\nsecond & 'third'\rfourth")
    ticket_customer_message(ticket=ticket, customer=order.customer, body=f"{TRICKY}\n\nagain")
    events = ticket_page_timeline(ticket=Ticket.objects.get(pk=ticket.pk))

    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        html = timeline_items(events)
        short_datetime = get_format("SHORT_DATETIME_FORMAT")
        times = [dateformat.format(timezone.localtime(event.created_at), short_datetime) for event in events]

    assert [event.verb for event in events] == ["created", "customer_message"]
    for event, written_time in zip(events, times, strict=True):
        local = timezone.localtime(event.created_at, zoneinfo.ZoneInfo("Asia/Shanghai"))
        assert f'<time class="event__time" datetime="{local.isoformat()}">{written_time}</time>' in html
        assert f'<div class="event__body">{linebreaksbr(event.message.body, autoescape=True)}</div>' in html
    assert "First &lt;b&gt;line&lt;/b&gt;<br>second &amp; &#x27;third&#x27;<br>fourth" in html
    assert html.count('<span class="event__what">') == 2


def _page_forms(ticket: Ticket) -> list:
    return [
        ReplyForm(ticket=ticket),
        NoteForm(),
        StatusForm(ticket=ticket),
        PriorityForm(initial={"priority": ticket.priority}),
        RemindForm(),
        MergeForm(),
        LinkForm(),
        PhoneCallForm(),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rows_of_constant_fields_are_kept_and_are_what_a_fresh_render_writes(make_ticket, language):
    ticket = make_ticket()
    resolved = make_ticket(subject="Another")
    Ticket.objects.filter(pk=resolved.pk).update(status=TicketStatus.RESOLVED, priority=3)
    resolved.refresh_from_db()

    with translation.override(language):
        for first, again, other in zip(_page_forms(ticket), _page_forms(ticket), _page_forms(resolved), strict=True):
            for name in type(first).constant_fields:
                kept = field_row(first[name])
                # The same markup as the field rendered afresh, kept for the next instance.
                assert kept == _field_row(first[name])
                assert field_row(again[name]) is kept
                # The priority row shows the ticket's own; the reply's statuses follow the ticket's.
                if name != "priority" and (type(first), name) != (ReplyForm, "status"):
                    assert field_row(other[name]) == kept
                    assert _field_row(other[name]) == kept

    with translation.override("en"):
        english = field_row(NoteForm()["body"])
    with translation.override("zh-hans"):
        chinese = field_row(NoteForm()["body"])
    assert english != chinese


def test_a_priority_row_is_kept_per_value():
    with translation.override("en"):
        urgent = field_row(PriorityForm(initial={"priority": TicketPriority.URGENT})["priority"])
        low = field_row(PriorityForm(initial={"priority": TicketPriority.LOW})["priority"])

    assert f'<option value="{TicketPriority.URGENT.value}" selected>' in urgent
    assert f'<option value="{TicketPriority.LOW.value}" selected>' in low
    assert urgent != low


def test_the_replys_status_row_is_kept_per_status_of_the_ticket(make_ticket):
    first, second, resolved = make_ticket(), make_ticket(subject="Second"), make_ticket(subject="Third")
    Ticket.objects.filter(pk=resolved.pk).update(status=TicketStatus.RESOLVED)
    resolved.refresh_from_db()

    with translation.override("en"):
        kept = field_row(ReplyForm(ticket=first)["status"])
        same_status = field_row(ReplyForm(ticket=second)["status"])
        other_status = field_row(ReplyForm(ticket=resolved)["status"])
        fresh = _field_row(ReplyForm(ticket=resolved)["status"])

    assert same_status is kept
    assert other_status == fresh
    assert other_status != kept
    assert f'<option value="{TicketStatus.CLOSED.value}">' in other_status


def test_a_bound_forms_rows_are_never_kept():
    with translation.override("en"):
        refused = field_row(NoteForm(data={"body": ""})["body"])
        unbound = field_row(NoteForm()["body"])
        refused_again = field_row(NoteForm(data={"body": "x" * 50_000})["body"])

    assert 'class="field field--error"' in refused
    assert "field--error" not in unbound
    assert refused_again != refused
    assert 'class="field field--error"' in refused_again


@pytest.mark.parametrize(
    "template_name", ["dashboard/knowledge/insert_article.html", "dashboard/includes/ticket_scripts.html"]
)
def test_a_constant_include_writes_what_the_include_writes_and_is_kept(template_name):
    tag = Template(f'{{% load dashboard_frame %}}{{% constant_include "{template_name}" %}}')
    include = Template(f'{{% include "{template_name}" %}}')
    written = {}
    with override_settings(DEBUG=False):
        for language in LANGUAGES:
            with translation.override(language):
                written[language] = tag.render(Context())
                assert written[language] == include.render(Context())
                kept = dashboard_frame.constant_include(template_name)
                assert dashboard_frame.constant_include(template_name) is kept

    assert written["en"] != written["zh-hans"]
