from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "pacte.journal"
    verbose_name = "Journal public"

    def ready(self) -> None:
        from pacte.journal.keys import check_configuration

        check_configuration()  # production refuses to start without PACTE_LOG_SIGNING_KEY
