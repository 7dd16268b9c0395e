from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Aftersales kernel")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from aftersales.config_cache import config_m2m_changed

        # A configuration row's stores change without a save: its merchant's cached configuration
        # is read again after commit (see aftersales.config_cache).
        m2m_changed.connect(config_m2m_changed, dispatch_uid="aftersales.config_cache")
