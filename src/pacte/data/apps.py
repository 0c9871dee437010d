from django.apps import AppConfig


def _on_pact_sanction(version, action):  # type: ignore[no-untyped-def]
    # Imported on use: the data services pull OpenDP and Polars, too heavy for every start-up
    # (`pacte migrate`, `collectstatic`…).
    from pacte.data.grants import on_pact_sanction

    on_pact_sanction(version, action)


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"

    def ready(self) -> None:
        from pacte.pacts.services import SANCTION_HOOKS

        if _on_pact_sanction not in SANCTION_HOOKS:
            SANCTION_HOOKS.append(_on_pact_sanction)
