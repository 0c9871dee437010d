from django.apps import AppConfig


def _on_pact_sanction(version, action):  # type: ignore[no-untyped-def]
    from pacte.funding.payments import on_pact_sanction

    on_pact_sanction(version, action)


class FundingConfig(AppConfig):
    name = "pacte.funding"
    verbose_name = "Financement au résultat"

    def ready(self) -> None:
        from pacte.pacts.ports import listen_to_sanctions

        # a suspended pact withholds its payments, a reinstated one releases them, a broken one
        # cancels what is not yet paid and opens a recovery of unspent advances
        listen_to_sanctions("funding.payments", _on_pact_sanction)
