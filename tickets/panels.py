"""What a workflow app shows on the case hub's pages, registered by the app itself.

The hub imports no workflow app. A workflow app (returns now, repairs and feedback later) plugs
its boxes into these registries in its ``AppConfig.ready``, as it plugs its deadline handlers into
``aftersales.timers``:

- a *staff box* on the dashboard's ticket page (``register_staff_box``), and
- a *portal box* on the customer's case page (``register_portal_box``).

A portal box of the case's own workflow may also set ``case_status`` (an object with ``label``,
``explanation`` and ``tone``, as ``tickets.views.portal.PortalStatus``): the page's head then
says where the case stands in the workflow's words instead of the generic status (which would
say "waiting for your reply" when the customer's move is to send a parcel), and the history
leaves out the generic status changes that the box tells as its own steps. Only the box of the
case's kind sets it, so no two boxes do.

A box is a template and a function that returns the variables that template reads. The hub's
view merges those variables into its page context and includes each box's template where the
page has its slot, in the order the boxes were registered. A box whose case is not one of its app
returns variables that make its template render nothing, and should cost no query for such a case
(the ticket's ``kind`` tells).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from aftersales.models import Customer
from tickets.models import Ticket

# (ticket) -> the variables of the box's template.
StaffBoxContext = Callable[..., Mapping[str, Any]]
# (request, ticket, customer) -> the variables of the box's template; ``customer`` is the
# session's customer who owns the ticket, or None (a visitor who may read but not act).
PortalBoxContext = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Box:
    name: str
    template_name: str
    context: Callable[..., Mapping[str, Any]]
    # A staff box that shows what the member may do (the workflow's actions) reads the request.
    wants_request: bool = False


@dataclass(frozen=True)
class BoxesOnPage:
    """What the hub's page renders: the templates in order, and the variables they read."""

    template_names: list[str]
    context: dict[str, Any]


_staff_boxes: dict[str, Box] = {}
_portal_boxes: dict[str, Box] = {}


def _register(
    registry: dict[str, Box],
    name: str,
    template_name: str,
    context: Callable[..., Mapping[str, Any]],
    *,
    wants_request: bool = False,
) -> Box:
    box = Box(name=name, template_name=template_name, context=context, wants_request=wants_request)
    if name in registry and registry[name] != box:
        raise ValueError(f"box {name!r} is already registered")
    registry[name] = box
    return box


def register_staff_box(name: str, *, template_name: str, context: StaffBoxContext, wants_request: bool = False) -> Box:
    """``context(ticket=...)`` returns the variables ``template_name`` reads on the ticket page;
    with ``wants_request``, ``context(ticket=..., request=...)``: for a box that offers the
    workflow's actions, which depend on the member's role."""
    return _register(_staff_boxes, name, template_name, context, wants_request=wants_request)


def register_portal_box(name: str, *, template_name: str, context: PortalBoxContext) -> Box:
    """``context(request, ticket=..., customer=...)`` returns the variables ``template_name`` reads
    on the customer's case page."""
    return _register(_portal_boxes, name, template_name, context)


def _merged(boxes: list[tuple[Box, Mapping[str, Any]]]) -> BoxesOnPage:
    context: dict[str, Any] = {}
    for box, variables in boxes:
        clash = context.keys() & variables.keys()
        if clash:
            raise ValueError(f"box {box.name!r} sets {sorted(clash)}, which another box already set")
        context.update(variables)
    return BoxesOnPage(template_names=[box.template_name for box, _ in boxes], context=context)


def staff_boxes(*, ticket: Ticket, request: HttpRequest | None = None) -> BoxesOnPage:
    """The registered staff boxes of a ticket page the staff member may already see."""
    return _merged(
        [
            (box, box.context(ticket=ticket, request=request) if box.wants_request else box.context(ticket=ticket))
            for box in _staff_boxes.values()
        ]
    )


def portal_boxes(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> BoxesOnPage:
    """The registered portal boxes of a case page the session may already see."""
    return _merged([(box, box.context(request, ticket=ticket, customer=customer)) for box in _portal_boxes.values()])


def registered_staff_boxes() -> list[str]:
    return list(_staff_boxes)


def registered_portal_boxes() -> list[str]:
    return list(_portal_boxes)
