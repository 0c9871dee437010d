"""C2SP tlog-tiles served by the platform: the whole tree rebuilt from its tiles (paths and
bundles are tested in tests/engines/test_tiles.py)."""

from __future__ import annotations

import pytest

from pacte.engines import merkle, note
from pacte.engines import tiles as T
from pacte.journal.models import Event
from tests.journal.helpers import batch

# ------------------------------------------------------------------ served by the platform


@pytest.mark.django_db
def test_tiles_of_a_700_entry_log_give_the_api_proofs_and_the_checkpoint(client):
    batch(300)
    batch(400, start=300)
    vkey = client.get("/api/v1/log/key").content.decode().strip()
    _, size, root = note.parse_checkpoint(
        note.verify(client.get("/api/v1/log/checkpoint").content.decode(), [vkey])
    )
    assert size == 700

    def fetch(path: str) -> bytes:
        r = client.get(f"/api/v1/log/{path}")
        assert r.status_code == 200, (path, r.content)
        assert r["Content-Type"] == "application/octet-stream"
        return r.content

    tt = T.TiledTree(size, fetch)
    assert tt.fetched == ["tile/0/000", "tile/0/001", "tile/0/002.p/188", "tile/1/000.p/2"]
    assert tt.root() == root
    for index in (0, 1, 255, 256, 511, 512, 600, 699):
        api = client.get(f"/api/v1/log/proof/inclusion?index={index}&size={size}").json()
        proof = tt.tree.inclusion_proof(index)
        assert [h.hex() for h in proof] == api["proof"]
        merkle.verify_inclusion(tt.store.get(0, index), index, size, proof, root)
    for old in (1, 255, 256, 300, 513, 699):
        api = client.get(f"/api/v1/log/proof/consistency?old={old}&new={size}").json()
        proof = tt.tree.consistency_proof(old)
        assert [h.hex() for h in proof] == api["proof"]
        merkle.verify_consistency(old, size, tt.tree.root(old), root, proof)
    assert (
        tt.tree.root(300).hex()
        == client.get("/api/v1/log/proof/consistency?old=300&new=700").json()["old_root"]
    )

    # entry bundles: each entry hashes to the level-0 tile, and they are the stored entries
    entries: list[bytes] = []
    for ref in T.bundles_for_size(size):
        r = client.get(f"/api/v1/log/{ref.path}", HTTP_ACCEPT_ENCODING="identity")
        assert r.status_code == 200 and r["Content-Type"] == "application/octet-stream"
        entries.extend(T.decode_bundle(r.content))
    assert [merkle.leaf_hash(e) for e in entries] == list(tt.leaf_hashes(0, size))
    assert entries == [
        e.encode() for e in Event.objects.order_by("index").values_list("entry", flat=True)
    ]
    assert merkle.root(entries) == root


@pytest.mark.django_db
def test_tile_http_details(client):
    batch(300)
    r = client.get("/api/v1/log/tile/0/000")
    assert r.status_code == 200 and len(r.content) == 8192
    assert "immutable" in r["Cache-Control"] and "max-age=31536000" in r["Cache-Control"]
    r = client.get("/api/v1/log/tile/0/001.p/44")
    assert r.status_code == 200 and len(r.content) == 44 * 32
    cc = r["Cache-Control"]
    assert "immutable" not in cc and int(cc.split("max-age=")[1].split(",")[0]) <= 300
    # a partial tile of an earlier size is still served (clients with an older checkpoint)
    assert client.get("/api/v1/log/tile/0/001.p/10").content == r.content[: 10 * 32]
    t0 = client.get("/api/v1/log/tile/0/000").content
    level0 = [t0[i : i + 32] for i in range(0, 8192, 32)]
    assert client.get("/api/v1/log/tile/1/000.p/1").content == merkle.root_from_leaf_hashes(level0)
    # beyond the signed tree: 404, not cached
    for path in (
        "tile/0/001",
        "tile/0/001.p/45",
        "tile/0/002.p/1",
        "tile/1/000",
        "tile/1/000.p/2",
        "tile/2/000.p/1",
        "tile/8/000.p/1",
        "tile/entries/001",
        "tile/entries/001.p/45",
    ):
        r = client.get(f"/api/v1/log/{path}")
        assert r.status_code == 404, path
        assert r["Cache-Control"] == "no-store"
    for path in (
        "tile/00/000",
        "tile/0/0000",
        "tile/0/x000/000",
        "tile/0/000.p/256",
        "tile/entries/000.p/0",
    ):
        assert client.get(f"/api/v1/log/{path}").status_code == 400, path
    # entry bundles are gzip-compressed when asked; full ones immutable
    r = client.get("/api/v1/log/tile/entries/000", HTTP_ACCEPT_ENCODING="gzip")
    assert (
        r.status_code == 200
        and r["Content-Encoding"] == "gzip"
        and "immutable" in r["Cache-Control"]
    )
    import gzip

    assert len(T.decode_bundle(gzip.decompress(r.content))) == 256
    assert len(T.decode_bundle(client.get("/api/v1/log/tile/entries/001.p/44").content)) == 44
    assert client.post("/api/v1/log/tile/0/000").status_code == 405
    assert client.head("/api/v1/log/tile/0/000").status_code == 200
    # the checkpoint is mutable: a few seconds of caching at most
    cc = client.get("/api/v1/log/checkpoint")["Cache-Control"]
    assert int(cc.split("max-age=")[1].split(",")[0]) <= 5
