from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "pacte.notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from pacte.notifications import notifier, tasks

        notifier.use_delivery_queue(tasks.enqueue_delivery)
        from pacte.accounts.ports import register_personal_data_eraser

        # a deleted account's address leaves every message of the outbox (issue 13)
        register_personal_data_eraser("notifications.outbox", notifier.forget_addresses)
