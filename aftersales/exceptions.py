"""Domain refusals. Services raise these; the API maps them to 400/409 with a stable code and
the pages show their message. Services know nothing about HTTP."""

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class ApplicationError(Exception):
    """A refusal the person asking can understand and act on."""

    default_code = "error"
    default_message = _("The request could not be completed.")

    def __init__(
        self, message: "str | StrPromise | None" = None, *, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.extra = extra or {}
        super().__init__(str(self.message))


class InvalidInput(ApplicationError):
    """The input itself is wrong (400)."""

    default_code = "invalid"


class TransitionNotAllowed(ApplicationError):
    """The object is not in a state that allows this change (409)."""

    default_code = "transition_not_allowed"
    default_message = _("This change is not allowed in the current state.")


class Conflict(ApplicationError):
    """The change collides with the current data (409)."""

    default_code = "conflict"


class PermissionRefused(ApplicationError):
    """The actor's role does not allow this action (403)."""

    default_code = "permission_denied"
    default_message = _("Your role does not allow this action.")


class RateLimited(ApplicationError):
    """Too many attempts in a short time (429)."""

    default_code = "rate_limited"
    default_message = _("Too many attempts. Please wait a while and try again.")
