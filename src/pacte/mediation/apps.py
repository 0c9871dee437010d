from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "pacte.mediation"
    verbose_name = "Usage accompagné (médiation)"
