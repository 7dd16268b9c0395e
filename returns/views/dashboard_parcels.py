"""The return's parcel on its page: the tracking number, the pickup, receiving it, inspecting
what came back, and sending rejected units back to the customer. Each action is one service call.
"""

from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

# The dashboard's shared pieces (from the kernel): the staff check, the page frame, the keyset cursors.
from aftersales.pages import (
    staff_required,
)
from returns.forms.dashboard import (
    InspectForm,
    PickupForm,
    ReceiveForm,
    RejectedUnitsSendForm,
    TrackingForm,
)
from returns.services import (
    return_pickup_book,
    return_rejected_units_send,
    return_request_inspect,
    return_request_receive,
    return_tracking_add,
)
from returns.views.dashboard import act_on_form, return_or_404


@staff_required
@require_POST
def return_tracking(request, number):
    return_request = return_or_404(request, number)
    form = TrackingForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "tracking_form",
        lambda: return_tracking_add(
            return_request=return_request,
            actor=request.user,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
        ),
        _("Parcel recorded; the return is in transit."),
    )


@staff_required
@require_POST
def return_pickup(request, number):
    return_request = return_or_404(request, number)
    form = PickupForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "pickup_form",
        lambda: return_pickup_book(
            return_request=return_request,
            actor=request.user,
            carrier=form.cleaned_data["carrier"],
            reference=form.cleaned_data["reference"],
        ),
        _("Pickup booked; the customer sees the carrier."),
    )


@staff_required
@require_POST
def return_receive(request, number):
    return_request = return_or_404(request, number)
    lines = [line for line in return_request.lines.all() if line.quantity > line.quantity_received]
    form = ReceiveForm(request.POST, lines=lines)
    return act_on_form(
        request,
        return_request,
        form,
        "receive_form",
        lambda: return_request_receive(
            return_request=return_request,
            actor=request.user,
            quantities=form.quantities(),
            note=form.cleaned_data["note"],
        ),
        _("Parcel received; inspect it next."),
    )


@staff_required
@require_POST
def return_inspect(request, number):
    return_request = return_or_404(request, number)
    lines = [line for line in return_request.lines.all() if line.quantity_received]
    form = InspectForm(request.POST, request.FILES, lines=lines)
    return act_on_form(
        request,
        return_request,
        form,
        "inspect_form",
        lambda: return_request_inspect(return_request=return_request, actor=request.user, lines=form.inspections()),
        _("Inspection recorded."),
    )


@staff_required
@require_POST
def return_rejected_units_sent(request, number):
    """The units inspection rejected are on their way back to the customer, or ready to collect."""
    return_request = return_or_404(request, number)
    form = RejectedUnitsSendForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "send_back_form",
        lambda: return_rejected_units_send(return_request=return_request, actor=request.user, **form.cleaned_data),
        _("Rejected units recorded as sent back; the customer has been told."),
    )
