"""The public event journal, which *is* the transparency log.

* ``Event``: one typed, canonical entry per governance event; ``index`` is its
  position in the RFC 9162 Merkle log and the UTF-8 bytes of ``entry`` are the leaf input.
* ``LogNode``: complete subtree hashes of levels 1 and up of the Merkle tree (``(level,
  index)`` as in :mod:`pacte.engines.merkle`), written once, never changed. Level 0 is not
  stored apart: an entry's ``leaf_hash`` is node ``(0, index)``.
* ``Checkpoint``: C2SP signed checkpoints; ``Witness``/``Cosignature``: witness
  cosignatures (``cosignature/v1``).
* ``LogState``: the singleton row locked (SELECT … FOR UPDATE) by every append and
  every integration: ``size`` = number of entries, ``tree_size`` = number of leaves in
  the stored tree (equal to ``size`` at every commit, see services).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LogState(models.Model):
    """Singleton row holding the log size; locked (SELECT … FOR UPDATE) by every append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    tree_size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("état du journal")

    def __str__(self) -> str:
        return f"journal: {self.size} entrées, arbre {self.tree_size}"


class Event(models.Model):
    """One entry. Indexes: only those a query uses (every append pays for each one):
    ``index`` (positions, ranges, tiles, newest first), ``entry_hash`` (proof by hash),
    (subject, index) (the ``prev`` chain's head, a subject's history) and (project, index)
    (a project's entries, newest first). No index on ``type``, ``occurred_at`` or
    ``organisation_slug``: no query filters or sorts on them alone."""

    index = models.BigIntegerField(unique=True)
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    organisation_slug = models.CharField(max_length=80, blank=True)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=80)
    project_slug = models.CharField(max_length=120, blank=True)
    entry = models.TextField(help_text="Canonical JSON text: its UTF-8 bytes are the leaf input.")
    entry_hash = models.CharField(max_length=64)
    leaf_hash = models.BinaryField(
        max_length=32, help_text="RFC 9162 leaf hash: node (0, index) of the Merkle tree."
    )
    prev = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["index"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "index"]),
            models.Index(fields=["project_slug", "index"], name="journal_event_project"),
        ]
        constraints = [  # a constraint, not unique=True: no second (LIKE) index on PostgreSQL
            models.UniqueConstraint(fields=["entry_hash"], name="journal_event_entry_hash")
        ]
        verbose_name = _("événement")

    def __str__(self) -> str:
        return f"#{self.index} {self.type} {self.subject_type}:{self.subject_id}"


class LogNode(models.Model):
    """A complete subtree hash: node ``(level, index)`` covers leaves
    ``[index·2^level, (index+1)·2^level)``. Levels 1 and up only: level 0 is
    ``Event.leaf_hash``."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("nœud de l'arbre de Merkle")

    def __str__(self) -> str:
        return f"node ({self.level}, {self.index})"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note)."""

    size = models.BigIntegerField(db_index=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField(
        help_text="The signed note: checkpoint body, blank line, signature lines."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size", "-id"]
        verbose_name = _("point de contrôle signé")

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Witness(models.Model):
    """A registered witness: its ``cosignature/v1`` verifier key (``name+hex8+base64``)."""

    name = models.CharField(max_length=200, unique=True)
    verifier_key = models.TextField(unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("témoin")

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    timestamp = models.BigIntegerField(help_text="Seconds since the epoch, signed by the witness.")
    signature = models.TextField(help_text="The signature line `— name base64`.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="journal_one_cosignature_per_witness"
            )
        ]
        verbose_name = _("cosignature de témoin")

    def __str__(self) -> str:
        return f"cosignature {self.witness_id} @ {self.checkpoint_id}"


class WitnessedLog(models.Model):
    """The WITNESS role of this platform (c2sp.org/tlog-witness): for each log origin it
    witnesses, the latest checkpoint it cosigned (the row is locked while a request is
    checked and updated, so that the check and the update are atomic)."""

    origin = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32, default=b"")
    checkpoint = models.TextField(
        blank=True, help_text="The cosigned checkpoint: the log's verified signature(s) and ours."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("journal témoigné")

    def __str__(self) -> str:
        return f"{self.origin} @ {self.size}"
