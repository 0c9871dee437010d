from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "pacte.journal"
    verbose_name = "Journal public"
