from django.apps import AppConfig


def _on_pact_sanction(version, action):  # type: ignore[no-untyped-def]
    # Imported on use: the data services pull OpenDP and Polars, too heavy for every start-up
    # (`pacte migrate`, `collectstatic`…).
    from pacte.data.services import on_pact_sanction

    on_pact_sanction(version, action)


def _lock_pact_grants(version):  # type: ignore[no-untyped-def]
    """SANCTION_LOCKS: lock the pact's grants (only those rows, in a fixed order) before the
    sanction writes its events, as the lock order of pacte.journal.services requires."""
    from pacte.data.models import Grant

    list(Grant.objects.select_for_update(of=("self",), no_key=True).filter(pact_id=version.pact_id).order_by("pk").only("pk"))


class DataConfig(AppConfig):
    name = "pacte.data"
    verbose_name = "Accès aux données"

    def ready(self) -> None:
        from pacte.pacts.services import SANCTION_HOOKS, SANCTION_LOCKS

        if _on_pact_sanction not in SANCTION_HOOKS:
            SANCTION_HOOKS.append(_on_pact_sanction)
        if _lock_pact_grants not in SANCTION_LOCKS:
            SANCTION_LOCKS.append(_lock_pact_grants)
