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
        # the State's record (issue 12): payments made by their due date
        from django.utils.translation import gettext_lazy as _

        from pacte.accounts.state_record import STATE_PROMISES
        from pacte.funding.selectors import payment_figures

        STATE_PROMISES.register(
            "payments",
            _("Paiements des contrats à impact"),  # type: ignore[arg-type]  # lazy: translated per request
            _("à la date d'échéance de l'ordre"),  # type: ignore[arg-type]
            payment_figures,
        )
