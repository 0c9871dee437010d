from django.apps import AppConfig


class PactsConfig(AppConfig):
    name = "pacte.pacts"
    verbose_name = "Pactes"
