from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"
