from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self):
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from returns.handlers import register_handlers
        from returns.panels import register_panels
        from returns.timeline import return_system_texts, return_verb_labels
        from tickets.system_texts import register_system_texts
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_panels()
        register_story("returns", "returns.demo.ReturnsDemoStory")
        register_bench("returns", "returns.bench")
        register_system_texts(return_system_texts())
        register_verb_labels(return_verb_labels())

        from aftersales.exports import export_source_register
        from returns.views.exports import RETURN_LIST_EXPORT_SOURCE, return_list_export_source

        # The returns list's export, which a worker runs when it is large (aftersales.services.exports).
        export_source_register(RETURN_LIST_EXPORT_SOURCE, return_list_export_source)

        from returns.selectors.order_refunds import partial_refund_available, shipping_refund_available
        from returns.services.order_refunds import partial_refund_compensation_pay, shipping_refund_compensation_pay
        from returns.services.store_credit import store_credit_compensation_pay
        from tickets.compensation_payers import register_compensation_payer

        register_compensation_payer("store_credit", store_credit_compensation_pay)
        register_compensation_payer(
            "shipping_refund", shipping_refund_compensation_pay, available=shipping_refund_available, settles_later=True
        )
        register_compensation_payer(
            "partial_refund", partial_refund_compensation_pay, available=partial_refund_available, settles_later=True
        )
