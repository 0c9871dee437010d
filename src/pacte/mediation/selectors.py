"""Reads for assisted use: a structure's receipts (mediators only), the services to choose from."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pacte.accounts import policy
from pacte.accounts.policy import Action
from pacte.accounts.services import Acting
from pacte.data.models import Dataset
from pacte.data.ports import ASSISTED_CONSENT
from pacte.errors import NotFound
from pacte.mediation.models import AssistedAction
from pacte.projects.models import Project


def get_action(acting: Acting, reference: str) -> AssistedAction:
    action = (
        AssistedAction.objects.select_related(
            "organisation", "project", "consent__dataset_version__dataset", "post__organisation"
        )
        .filter(reference=reference)
        .first()
    )
    if action is None:
        raise NotFound(_("Ce reçu n'existe pas."))
    policy.require(acting, Action.ASSISTED_RECEIPT, action)
    return action


def recent_actions(acting: Acting, limit: int = 20) -> list[AssistedAction]:
    if not policy.may(acting, Action.ASSISTED_ACT, acting.organisation):
        return []
    return list(
        AssistedAction.objects.filter(organisation=acting.organisation)
        .select_related("project")
        .order_by("-created_at")[:limit]
    )


def projects() -> QuerySet[Project]:
    return Project.objects.order_by("name")


def datasets() -> list[Dataset]:
    """The datasets in which a person can be found (for a consent to data sharing)."""
    return ASSISTED_CONSENT.datasets()


def dataset(slug: str) -> Dataset | None:
    return next((ds for ds in datasets() if ds.slug == slug), None)
