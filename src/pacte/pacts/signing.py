"""Both sides sign an approved pact version; the second signature puts it in force (and supersedes
the version it amends, carrying its commitments' progress over)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from pacte.accounts.policy import actor_of, signing_side
from pacte.accounts.services import Acting
from pacte.accounts.signing_keys import sign_digest
from pacte.errors import InvalidTransition, PermissionDenied
from pacte.journal.services import SYSTEM
from pacte.pacts import notifications
from pacte.pacts.documents import canonical_digest
from pacte.pacts.events import lock_version, pact_event, set_current, set_status
from pacte.pacts.lifecycles import PACT
from pacte.pacts.models import Pact, PactVersion, Signature, Status
from pacte.writes.retry import retry_on_conflict


def _require_one_side_per_person(acting: Acting, pact: Pact, side: str) -> None:
    """A person signs for at most one side of a pact (the recusal of a carrier member from the
    institution's side is in the policy)."""
    if Signature.objects.filter(version__pact=pact, signer=acting.user).exclude(side=side).exists():
        raise PermissionDenied(
            _(
                "Vous avez déjà signé ce pacte pour l'autre partie : une même personne ne signe que pour un côté."
            )
        )


def _carry_over_commitments(old: PactVersion, new: PactVersion) -> None:
    previous = {c.key: c for c in old.commitments.all()}
    for c in new.commitments.all():
        if c.key in previous:
            p = previous[c.key]
            c.status, c.progress, c.evidence_note, c.evidence_url = (
                p.status,
                p.progress,
                p.evidence_note,
                p.evidence_url,
            )
            c.save()


@retry_on_conflict
@transaction.atomic
def sign(acting: Acting, version: PactVersion) -> Signature:
    version = lock_version(version)
    pact = version.pact
    move, _reason = PACT.check(acting, "sign", version)
    side = signing_side(acting, pact)
    assert side is not None  # the policy refused otherwise
    _require_one_side_per_person(acting, pact, side)
    if version.signatures.filter(side=side).exists():
        raise InvalidTransition(_("Ce côté a déjà signé cette version."))
    digest = canonical_digest(version)
    if digest.hex() != version.canonical_sha256:
        raise InvalidTransition(
            _("Le texte ne correspond plus à celui qui a été soumis : signature refusée.")
        )
    public_key, signature_hex = sign_digest(acting.user, digest)
    signature = Signature.objects.create(
        version=version,
        side=side,
        signer=acting.user,
        organisation=acting.organisation,
        digest_sha256=digest.hex(),
        public_key=public_key,
        signature=signature_hex,
    )
    pact_event(
        version,
        "pact.signed",
        actor_of(acting),
        side=side,
        sha256=digest.hex(),
        public_key=public_key,
        signature=signature_hex,
    )
    if version.signatures.count() < 2:
        set_status(version, Status.SIGNING)
        return signature
    for old in pact.versions.filter(status=Status.ACTIVE).exclude(pk=version.pk):
        _carry_over_commitments(old, version)
        set_status(
            old,
            Status.SUPERSEDED,
            _("Remplacé par la version %(number)s.") % {"number": version.number},
        )
        pact_event(old, "pact.superseded", SYSTEM, by_version=version.number)
    set_current(version)
    PACT.enter(acting, move, version, sha256=digest.hex())
    notifications.notify(version, "active")
    return signature
