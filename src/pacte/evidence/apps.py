from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "pacte.evidence"
    verbose_name = "Preuves : panels, expérimentations, évaluations, audits"

    def ready(self) -> None:
        from pacte.accounts.ports import register_personal_data_eraser
        from pacte.evidence.panels import leave_panel

        # a deleted account leaves its panel: every personal field of the volunteer is erased
        register_personal_data_eraser("evidence.panels", lambda user, former: leave_panel(user))

        from pacte.accounts.state_record import STATE_PROMISES
        from pacte.evidence import panel_draws

        panel_draws.register(STATE_PROMISES)  # the State's record: panel draws (issue 12)
