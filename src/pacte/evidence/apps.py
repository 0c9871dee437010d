from django.apps import AppConfig


def _leave_panel(user, former):  # type: ignore[no-untyped-def]
    # Imported on use: the panels pull the evaluation engines (pandas, SciPy, scikit-learn through
    # fairlearn), too heavy for every start-up (`pacte migrate`, a worker, a child process).
    from pacte.evidence.panels import leave_panel

    leave_panel(user)


class EvidenceConfig(AppConfig):
    name = "pacte.evidence"
    verbose_name = "Preuves : panels, expérimentations, évaluations, audits"

    def ready(self) -> None:
        from pacte.accounts.ports import register_personal_data_eraser

        # a deleted account leaves its panel: every personal field of the volunteer is erased
        register_personal_data_eraser("evidence.panels", _leave_panel)

        from pacte.accounts.state_record import STATE_PROMISES
        from pacte.evidence import panel_draws

        panel_draws.register(STATE_PROMISES)  # the State's record: panel draws (issue 12)
