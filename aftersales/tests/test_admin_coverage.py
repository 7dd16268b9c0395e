"""Django admin shows every model of the project's apps: registered on its own, or inline in the
admin of the model it belongs to."""

from django.apps import apps
from django.contrib import admin

OUR_APPS = {"aftersales", "tickets", "returns", "repairs", "feedback"}


def _inline_models() -> set[type]:
    return {
        inline.model for model_admin in admin.site._registry.values() for inline in getattr(model_admin, "inlines", ())
    }


def test_every_model_of_our_apps_is_in_the_admin_on_its_own_or_inline():
    # Given every concrete model of our apps
    ours = [
        model
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and not model._meta.auto_created and not model._meta.abstract
    ]
    shown = set(admin.site._registry) | _inline_models()

    # Then each is shown somewhere
    missing = sorted(model._meta.label for model in ours if model not in shown)
    assert missing == []
    assert len(ours) >= 90  # the walk saw the models, not an empty registry
