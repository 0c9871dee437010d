from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "pacte.notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from pacte.notifications import notifier, tasks

        notifier.use_delivery_queue(tasks.enqueue_delivery)
