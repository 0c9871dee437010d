from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalConfig(AppConfig):
    name = "pacte.journal"
    verbose_name = _("Journal public")

    def ready(self) -> None:
        from pacte.journal.keys import check_configuration

        check_configuration()  # production refuses to start without PACTE_LOG_SIGNING_KEY
