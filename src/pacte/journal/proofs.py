"""Inclusion and consistency proofs (RFC 9162) served from the stored tree: one read of the
node store per proof, none when the process-wide node cache holds every node."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from pacte.engines import merkle
from pacte.errors import NotFound, ValidationFailed
from pacte.journal import checkpoints
from pacte.journal.checkpoints import _published
from pacte.journal.models import Event
from pacte.journal.store import CachedNodeStore, DbNodeStore

_ROOTS_MAX = checkpoints._ROOTS_MAX


class BadRequest(ValidationFailed):
    """Bad parameters of a log request (HTTP 400, French message)."""

    status = 400
    code = "bad_request"


def _bad(message: str) -> BadRequest:
    return BadRequest(message)


class OutsideTheLog(NotFound):
    """A well-formed request for a position or a tree size the published log does not have (404)."""


def _fold(ids: Sequence[merkle.NodeId], nodes: Mapping[merkle.NodeId, bytes]) -> bytes:
    """RFC 6962 hash of a range given as its perfect subtrees, left to right."""
    r = nodes[ids[-1]]
    for nid in reversed(ids[:-1]):
        r = hashlib.sha256(b"\x01" + nodes[nid] + r).digest()
    return r


def _serve(
    published: int,
    cacheable: bool,
    ranges: list[tuple[int, int]],
    extra: list[merkle.NodeId],
    sizes: Sequence[int],
    roots: dict[int, bytes],
) -> tuple[list[bytes], Mapping[merkle.NodeId, bytes], list[bytes]]:
    """(proof hashes, fetched nodes, roots of `sizes`) with ONE read of the node store (none
    when the process-wide cache has every node)."""
    groups = [merkle.range_node_ids(b, e) for b, e in ranges]
    ids = [nid for g in groups for nid in g] + extra
    known = [roots.get(s) for s in sizes]
    for s, r in zip(sizes, known, strict=True):
        if r is None:
            ids += merkle.frontier_node_ids(s)
    if cacheable:
        nodes = CachedNodeStore(published).get_many(ids)
    else:
        store = DbNodeStore()
        store.prime(ids)
        nodes = store.get_many(ids)
    missing = [nid for nid in ids if nid not in nodes]
    if missing:
        raise LookupError(
            f"journal: node store is missing node {missing[0]}; run `pacte log audit`"
        )
    proof = [nodes[g[0]] if len(g) == 1 else _fold(g, nodes) for g in groups]
    out_roots = []
    for s, r in zip(sizes, known, strict=True):
        if r is None:
            r = _fold(merkle.frontier_node_ids(s), nodes)
            if cacheable and len(roots) < _ROOTS_MAX:
                roots[s] = r
        out_roots.append(r)
    return proof, nodes, out_roots


def _roots(cacheable: bool, published: int, proot: bytes) -> dict[int, bytes]:
    published_cache = checkpoints._published_cache
    if cacheable and published_cache is not None:
        roots = published_cache.roots
    else:
        roots = {}
    roots.setdefault(published, proot)
    return roots


def inclusion(
    *, index: int | None = None, entry_hash: str = "", size: int | None = None
) -> dict[str, Any]:
    """Inclusion proof of one entry in the tree of `size` leaves (default: latest checkpoint)."""
    published, proot, cacheable = _published(size or 0)
    if entry_hash:
        ev = (
            Event.objects.filter(entry_hash=entry_hash.strip().lower())
            .values_list("index", flat=True)
            .first()
        )
        if ev is None:
            raise NotFound(_("Aucune entrée du journal n'a cette empreinte."))
        index = ev
    if index is None:
        raise OutsideTheLog(
            _("Aucune entrée désignée : indiquez index (position de l'entrée) ou hash (empreinte).")
        )
    size = published if size is None else size
    if not 0 < size <= published:
        raise OutsideTheLog(
            _(
                "Aucun arbre de cette taille : size doit être entre 1 et %(published)s "
                "(taille du dernier point de contrôle)."
            )
            % {"published": published}
        )
    if not 0 <= index < size:
        raise OutsideTheLog(
            _(
                "Aucune entrée à cette position : index doit être entre 0 et %(last)s "
                "pour un arbre de taille %(size)s."
            )
            % {"last": size - 1, "size": size}
        )
    roots = _roots(cacheable, published, proot)
    proof, nodes, (root,) = _serve(
        published,
        cacheable,
        merkle.inclusion_proof_ranges(index, size),
        [(0, index)],
        [size],
        roots,
    )
    return {
        "index": index,
        "size": size,
        "root": root.hex(),
        "leaf_hash": nodes[(0, index)].hex(),
        "proof": [p.hex() for p in proof],
    }


def consistency(old: int, new: int | None = None) -> dict[str, Any]:
    published, proot, cacheable = _published(new or 0)
    new = published if new is None else new
    if not 0 < old <= new <= published:
        raise OutsideTheLog(
            _(
                "Aucune preuve entre ces tailles : il faut 0 < old ≤ new ≤ %(published)s "
                "(taille du dernier point de contrôle)."
            )
            % {"published": published}
        )
    roots = _roots(cacheable, published, proot)
    proof, _nodes, (old_root, root) = _serve(
        published, cacheable, merkle.consistency_proof_ranges(old, new), [], [old, new], roots
    )
    return {
        "old": old,
        "size": new,
        "old_root": old_root.hex(),
        "root": root.hex(),
        "proof": [p.hex() for p in proof],
    }
