from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "pacte.evidence"
    verbose_name = "Preuves : panels, expérimentations, évaluations, audits"
