from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Aftersales kernel")

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import m2m_changed

        from aftersales.config_cache import config_deletes_watch, config_m2m_changed

        # A configuration row's stores change without a save: its merchant's cached configuration
        # is read again after commit (see aftersales.config_cache).
        m2m_changed.connect(config_m2m_changed, dispatch_uid="aftersales.config_cache")
        # Deletes the collector runs itself (a cascade, a SET_NULL of a rule's team or assignee,
        # a store leaving a rule's stores) bump the merchants whose configuration they change.
        config_deletes_watch(apps.get_models())
