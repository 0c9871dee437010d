from django.apps import AppConfig


class WritesConfig(AppConfig):
    name = "pacte.writes"
    verbose_name = "Écritures fiables"
