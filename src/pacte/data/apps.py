from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"

    def ready(self) -> None:
        from pacte.data.services import on_pact_sanction
        from pacte.pacts.services import SANCTION_HOOKS

        if on_pact_sanction not in SANCTION_HOOKS:
            SANCTION_HOOKS.append(on_pact_sanction)
