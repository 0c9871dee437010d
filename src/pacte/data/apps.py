from django.apps import AppConfig


def _on_pact_sanction(version, action):  # type: ignore[no-untyped-def]
    # Imported on use: the data use cases pull OpenDP and Polars, too heavy for every start-up
    # (`pacte migrate`, `collectstatic`…).
    from pacte.data.grants import on_pact_sanction

    on_pact_sanction(version, action)


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"

    def ready(self) -> None:
        from pacte.pacts.ports import listen_to_sanctions

        # a suspended pact suspends its grants, a broken one revokes them, a reinstated one restores them
        listen_to_sanctions("data.grants", _on_pact_sanction)
