"""Every model and field of our apps carries a translatable label, so the admin, model forms and
the API's field titles read in Simplified Chinese as well as English.

Kept apart from test_i18n.py: these checks read only the models, need neither the catalogs nor
the database, and so run (and fail) even where msgfmt is missing."""

from django.apps import apps
from django.db import models
from django.utils.functional import Promise

APPS = ("aftersales", "tickets", "returns", "repairs", "feedback")


def _our_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if model._meta.app_label in APPS]


def _labelled_fields() -> dict[str, models.Field]:
    """Every field a merchant may see: concrete ones (foreign keys and one-to-ones included) and
    many-to-manys; not reverse relations, which take their label from the other side."""
    return {
        f"{model._meta.label}.{field.name}": field
        for model in _our_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.Field)
        and not field.auto_created
        and (getattr(field, "concrete", False) or field.many_to_many)
    }


def test_the_label_check_walks_foreign_keys_many_to_manys_and_inherited_fields():
    # Given the fields the label check walks
    # When we look for one of each kind
    fields = _labelled_fields()

    # Then relations and the shared base's fields are among them, so none slips past unchecked
    for name in (
        "returns.ReturnRequest.ticket",  # one-to-one
        "returns.Refund.granted_by",  # foreign key to the user model
        "tickets.Ticket.tags",  # many-to-many
        "tickets.Tag.merchant",  # inherited from MerchantOwnedModel
        "tickets.Tag.created_at",  # inherited from TimeStampedModel
        "tickets.Attachment.sha256",
    ):
        assert name in fields, name


def test_every_field_of_our_models_has_a_translatable_label():
    # Given every field of the five apps' models
    fields = _labelled_fields()

    # When we keep those whose label is not a lazy translation (a plain string, or none at all,
    # which Django makes up from the field's name in English)
    unlabelled = sorted(name for name, field in fields.items() if not isinstance(field.verbose_name, Promise))

    # Then there are none
    assert unlabelled == [], (
        'These fields need a translatable label, e.g. verbose_name=_("…") on a foreign key: ' + ", ".join(unlabelled)
    )


def test_every_model_of_our_apps_has_a_translatable_name_in_singular_and_plural():
    # Given every model of the five apps
    # When we keep those whose name or plural name is not a lazy translation given in its Meta
    # (left out, the plural is made lazily of the name plus "s": lazy, but never translated)
    unnamed = sorted(
        f"{model._meta.label}.Meta.{option}"
        for model in _our_models()
        for option in ("verbose_name", "verbose_name_plural")
        if option not in model._meta.original_attrs or not isinstance(getattr(model._meta, option), Promise)
    )

    # Then there are none
    assert unnamed == [], (
        'These models need verbose_name = _("…") and verbose_name_plural = _("…") in their Meta: ' + ", ".join(unnamed)
    )
