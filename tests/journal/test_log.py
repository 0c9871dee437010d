from __future__ import annotations

import json

import pytest
from django.db import transaction

from pacte.engines import merkle, note
from pacte.journal import services
from pacte.journal.keys import get_signer
from pacte.journal.models import Checkpoint, Event, LogNode, LogState
from pacte.journal.services import SYSTEM, integrate, record_event, verify_log
from tests.journal.helpers import append, batch

pytestmark = pytest.mark.django_db


def entries() -> list[bytes]:
    return [e.encode() for e in Event.objects.order_by("index").values_list("entry", flat=True)]


def test_tree_is_maintained_in_the_same_transaction_as_the_entries():
    with transaction.atomic():
        record_event("x.a", actor=SYSTEM, subject_type="t", subject_id=1)
        record_event("x.b", actor=SYSTEM, subject_type="t", subject_id=2)
        state = LogState.objects.get()
        assert state.size == state.tree_size == 2
        # the two leaves are the entries' leaf hashes; only their parent is a stored node
        assert LogNode.objects.count() == 1
        assert not LogNode.objects.filter(level=0).exists()
    assert verify_log().problems == []
    cp = integrate()
    assert cp.size == 2 and bytes(cp.root) == merkle.root(entries())


def test_rolled_back_transaction_leaves_neither_entry_nor_node():
    append(3)
    with pytest.raises(ValueError), transaction.atomic():
        record_event("x.lost", actor=SYSTEM, subject_type="t", subject_id=9)
        raise ValueError
    assert Event.objects.count() == 3
    assert list(LogNode.objects.values_list("level", "index")) == [(1, 0)]  # leaves 0-1 only
    append(2)
    assert verify_log().ok


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33])
def test_roots_and_checkpoints_match_the_rfc_definition(n):
    append(n)
    cp = Checkpoint.objects.order_by("-size").first()
    origin, size, root = note.parse_checkpoint(note.verify(cp.note, [get_signer().verifier_key]))
    assert size == n and root == merkle.root(entries()) == bytes(cp.root)
    report = verify_log()
    assert report.ok, report.problems


def test_record_events_batches_chain_prev_within_the_batch_and_across_batches():
    first = batch(10, subjects=3)
    second = batch(5, start=10, subjects=3)
    assert [a.index for a in first + second] == list(range(15))
    docs = [json.loads(e) for e in Event.objects.order_by("index").values_list("entry", flat=True)]
    last: dict[str, str] = {}
    for doc, ev in zip(docs, Event.objects.order_by("index"), strict=True):
        assert doc["prev"] == last.get(doc["subject"]["id"])
        assert (ev.prev or None) == doc["prev"]
        last[doc["subject"]["id"]] = ev.entry_hash
    # one checkpoint per batch
    assert list(Checkpoint.objects.order_by("size").values_list("size", flat=True)) == [10, 15]
    assert verify_log().ok


def test_integrate_catches_up_entries_written_outside_the_tree():
    append(4)
    LogNode.objects.all().delete()
    Checkpoint.objects.all().delete()
    LogState.objects.update(tree_size=0)
    cp = integrate()
    assert cp.size == 4 and bytes(cp.root) == merkle.root(entries())
    assert verify_log().ok
    assert integrate().pk == cp.pk  # nothing to do: same checkpoint


def test_inclusion_and_consistency_proofs_from_the_db_for_every_index_and_size():
    append(1)
    for _ in range(18):
        with transaction.atomic():
            record_event("x.more", actor=SYSTEM, subject_type="t", subject_id="s")
    integrate()
    es = entries()
    n = len(es)
    for size in range(1, n + 1):
        root = merkle.root(es[:size])
        for index in range(size):
            p = services.inclusion(index=index, size=size)
            assert [bytes.fromhex(h) for h in p["proof"]] == merkle.inclusion_proof(
                es[:size], index
            )
            merkle.verify_inclusion(
                merkle.leaf_hash(es[index]),
                index,
                size,
                [bytes.fromhex(h) for h in p["proof"]],
                root,
            )
        for old in range(1, size + 1):
            c = services.consistency(old, size)
            assert [bytes.fromhex(h) for h in c["proof"]] == merkle.consistency_proof(
                es[:size], old
            )
            assert c["root"] == root.hex() and c["old_root"] == merkle.root(es[:old]).hex()


def test_proof_by_entry_hash():
    append(5)
    ev = Event.objects.get(index=3)
    assert services.inclusion(entry_hash=ev.entry_hash)["index"] == 3


@pytest.mark.parametrize(
    "kw",
    [{"index": 5, "size": 5}, {"index": 0, "size": 6}, {"index": -1}, {"index": 0, "size": 0}, {}],
)
def test_proof_parameters_outside_the_published_log(kw):
    """A well-formed request for a position or size the log does not have: 404, not 400."""
    append(5)
    with pytest.raises(services.OutsideTheLog) as refused:
        services.inclusion(**kw)
    assert refused.value.status == 404


def test_production_refuses_to_start_without_a_signing_key(settings):
    from django.core.exceptions import ImproperlyConfigured

    from pacte.journal.keys import check_configuration

    settings.ENVIRONMENT = "production"
    settings.LOG_SIGNING_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        check_configuration()
    settings.LOG_SIGNING_KEY = note.generate_signer("pacte.example/log").private_key_text
    check_configuration()
    assert get_signer().name == "pacte.example/log"


def test_development_key_is_generated_once_with_mode_0600(settings, tmp_path):
    from pacte.journal import keys

    settings.VAR_DIR = tmp_path
    settings.LOG_SIGNING_KEY = ""
    s1 = keys.get_signer()
    path = tmp_path / keys.KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    keys._cache.clear()
    assert keys.get_signer().verifier_key == s1.verifier_key


def test_fast_entry_text_is_exactly_canonical_json():
    from pacte.engines.canonical import canonical_json

    odd = 'é "quote" \\\\ \\n \u2028 \U0001f600'
    batch_events = [
        services.NewEvent(
            "x.odd",
            services.Actor("org", "role", 3),
            "t",
            odd,
            {
                "z": [1, {"b": odd, "a": None}],
                "a": 1.5,
                "two": 2.0,
                "tiny": 1e-7,
                "\U0001f600": 1,
                "\ufb33": 2,
            },
            odd,
        ),
        services.NewEvent("x.plain", SYSTEM, "t", 1),
    ]
    got = services.record_events(batch_events)
    for a in got:
        assert canonical_json(json.loads(a.entry)) == a.entry
    assert json.loads(got[0].entry)["subject"]["id"] == odd
    assert '"tiny":1e-7,"two":2,"z":' in got[0].entry  # RFC 8785 numbers
    assert (
        '"\U0001f600":1,"\ufb33":2}' in got[0].entry
    )  # keys by UTF-16 code units (Python: the reverse)
    assert verify_log().ok
