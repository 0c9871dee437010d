"""Witnesses of this log (C2SP ``cosignature/v1``): registering them and receiving their
cosignatures."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.translation import gettext as _

from pacte.engines import note
from pacte.errors import Conflict, PermissionDenied, ValidationFailed
from pacte.journal.checkpoints import latest_checkpoint
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Cosignature, Witness
from pacte.journal.proofs import _bad


def register_witness(verifier_key: str, *, name: str = "") -> Witness:
    try:
        v = note.parse_verifier_key(verifier_key.strip())
    except note.NoteError as exc:
        raise ValidationFailed(_("Clé de témoin invalide : %(error)s") % {"error": exc}) from None
    if not isinstance(v, note.CosignatureVerifier):
        raise ValidationFailed(
            _("La clé d'un témoin doit être de type cosignature/v1 (algorithme 0x04).")
        )
    witness, _created = Witness.objects.update_or_create(
        verifier_key=verifier_key.strip(), defaults={"name": name or v.name, "active": True}
    )
    return witness


def _check_cosignature_time(name: str, ts: int) -> None:
    """c2sp.org/tlog-witness: a cosignature MUST carry a timestamp (not 0); c2sp.org/
    tlog-cosignature: verifiers MAY reject timestamps in the future (beyond a clock skew)."""
    if ts == 0:
        raise ValidationFailed(
            _("La cosignature de %(name)s n'a pas d'horodatage (0) : refusée.") % {"name": name}
        )
    skew = int(getattr(settings, "WITNESS_MAX_CLOCK_SKEW", 600))
    if ts > time.time() + skew:
        raise ValidationFailed(
            _(
                "La cosignature de %(name)s est datée dans le futur (%(ts)s, plus de %(skew)s s d'avance sur "
                "l'horloge du journal) : refusée."
            )
            % {"name": name, "ts": ts, "skew": skew}
        )


def add_cosignature(body: str) -> list[Cosignature]:
    """Receive witness cosignature(s) (C2SP tlog-witness style).

    `body` is either a cosigned checkpoint (checkpoint body, blank line, signature lines:
    the log's and/or the witnesses') or bare signature lines for the latest checkpoint.
    400 malformed, 403 unknown witness, 409 when the checkpoint is not ours or the
    cosignature does not verify over it.
    """
    if not body.strip():
        raise _bad(
            _("Corps vide : envoyez un point de contrôle cosigné ou une ligne de cosignature.")
        )
    body = body.rstrip("\n") + "\n"  # trailing blank lines carry nothing
    try:
        if "\n\n" in body:
            text = note.note_text(body)
            _body, sigs = note._split_note(body)
            origin, size, root = note.parse_checkpoint(text)
        else:
            text = None
            _body, sigs = note._split_note("x\n\n" + (body if body.endswith("\n") else body + "\n"))
    except note.NoteError as exc:
        raise _bad(_("Cosignature mal formée : %(error)s") % {"error": exc}) from None
    cp: Checkpoint | None
    if text is None:
        cp = latest_checkpoint()
    else:
        cp = Checkpoint.objects.filter(size=size).order_by("-id").first()
        if origin != settings.LOG_ORIGIN or cp is None or note.note_text(cp.note) != text:
            raise Conflict(
                _(
                    "Ce point de contrôle ne correspond à aucun point de contrôle publié par ce journal."
                )
            )
    cp_text = note.note_text(cp.note)
    witnesses = {
        (w.name, note.parse_verifier_key(w.verifier_key).key_id): w
        for w in Witness.objects.filter(active=True)
    }
    log_signer = get_signer()
    saved: list[Cosignature] = []
    for s in sigs:
        if (s.name, s.key_id) == (log_signer.name, log_signer.key_id):
            continue  # the log's own signature, echoed back
        w = witnesses.get((s.name, s.key_id))
        if w is None:
            raise PermissionDenied(_("Témoin inconnu ou inactif : %(name)s.") % {"name": s.name})
        try:
            ts = note.verify_cosignature(cp_text, s.line, w.verifier_key)
        except note.NoteError as exc:
            raise Conflict(
                _(
                    "La cosignature de %(name)s ne vérifie pas le point de contrôle de taille %(size)s : %(error)s"
                )
                % {"name": s.name, "size": cp.size, "error": exc}
            ) from None
        _check_cosignature_time(s.name, ts)
        c, _created = Cosignature.objects.update_or_create(
            checkpoint=cp, witness=w, defaults={"timestamp": ts, "signature": s.line}
        )
        saved.append(c)
    if not saved:
        raise _bad(_("Aucune ligne de cosignature de témoin dans le corps."))
    return saved
