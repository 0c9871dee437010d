from django.apps import AppConfig


def _on_pact_sanction(version, action):  # type: ignore[no-untyped-def]
    # Imported on use: the data use cases pull OpenDP and Polars, too heavy for every start-up
    # (`pacte migrate`, `collectstatic`…).
    from pacte.data.grants import on_pact_sanction

    on_pact_sanction(version, action)


def _erase_personal_data(user, former):  # type: ignore[no-untyped-def]
    from pacte.data.consent import erase_personal_data

    erase_personal_data(user, former)


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"

    def ready(self) -> None:
        from pacte.pacts.ports import listen_to_sanctions

        # a suspended pact suspends its grants, a broken one revokes them, a reinstated one restores them
        listen_to_sanctions("data.grants", _on_pact_sanction)
        # the State's record (issue 12): data-request decisions, per publishing institution
        from django.utils.translation import gettext_lazy as _

        from pacte.accounts.state_record import STATE_PROMISES
        from pacte.data.selectors import decision_figures

        STATE_PROMISES.register(
            "data_requests",
            _("Décisions sur les demandes d'accès aux données"),  # type: ignore[arg-type]  # lazy: translated per request
            _("30 jours après le dépôt de la demande"),  # type: ignore[arg-type]
            decision_figures,
        )
        from pacte.accounts.ports import register_personal_data_eraser

        # a deleted account withdraws its consents and loses its identity links (issue 13)
        register_personal_data_eraser("data.consent", _erase_personal_data)
