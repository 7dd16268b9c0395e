"""What the dashboard's and the portal's action views share."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponseRedirect

from aftersales.exceptions import ApplicationError


def act_and_return(request, action: Callable[[], object], success: str, back_to: str) -> HttpResponseRedirect:
    """Run one service call; show its refusal (which changed nothing) or the success, and go back."""
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(back_to)
