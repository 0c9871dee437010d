"""C2SP tlog-tiles served by the platform: the whole tree rebuilt from its tiles (paths and
bundles are tested in tests/engines/test_tiles.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ------------------------------------------------------------------ immutable, and proofs from them


def _full_tiles(client, size: int) -> dict[str, bytes]:
    out = {}
    for ref in T.tiles_for_size(size) + T.bundles_for_size(size):
        if not ref.partial:
            r = client.get(f"/api/v1/log/{ref.path}", HTTP_ACCEPT_ENCODING="identity")
            assert r.status_code == 200, ref.path
            assert r["Cache-Control"] == "public, max-age=31536000, immutable"
            out[ref.path] = r.content
    return out


@pytest.mark.django_db
def test_a_full_tile_never_changes_as_the_log_grows(client):
    batch(600)
    before = _full_tiles(client, 600)
    assert set(before) == {"tile/0/000", "tile/0/001", "tile/entries/000", "tile/entries/001"}
    batch(300, start=600)
    after = _full_tiles(client, 900)
    assert {p: after[p] for p in before} == before  # byte for byte
    assert "tile/0/002" in after and "tile/entries/002" in after
    # a partial tile of the older size still answers what it answered then
    r = client.get("/api/v1/log/tile/0/002.p/88")
    assert r.status_code == 200 and r.content == after["tile/0/002"][: 88 * 32]
    assert "immutable" not in r["Cache-Control"]


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_proofs_computed_from_tiles_over_http_equal_the_proofs_of_the_service(client, data):
    from pacte.journal import services

    if not Event.objects.exists():  # built once: the examples of one test share the database
        batch(500, subjects=5)
        batch(333, start=500, subjects=5)
    size = services.latest_checkpoint().size
    assert size == 833

    def fetch(path: str) -> bytes:
        r = client.get(f"/api/v1/log/{path}")
        assert r.status_code == 200, path
        return r.content

    at = data.draw(st.integers(1, size), label="tree size")
    index = data.draw(st.integers(0, at - 1), label="index")
    old = data.draw(st.integers(1, at), label="old")
    tree = merkle.MerkleTree(T.TileNodeStore(size, fetch), size)  # the tiles of the checkpoint
    inc = services.inclusion(index=index, size=at)
    assert [h.hex() for h in tree.inclusion_proof(index, at)] == inc["proof"]
    assert tree.leaf_hash(index).hex() == inc["leaf_hash"] and tree.root(at).hex() == inc["root"]
    con = services.consistency(old, at)
    assert [h.hex() for h in tree.consistency_proof(old, at)] == con["proof"]
    assert tree.root(old).hex() == con["old_root"]


@pytest.mark.django_db
def test_static_tiles_are_the_served_tiles_and_are_written_once(client, tmp_path):
    from pacte.journal.static_tiles import write_tiles

    batch(300)
    first = write_tiles(tmp_path)
    assert first.size == 300 and first.kept == 0 and first.written == 5
    for ref in T.tiles_for_size(300) + T.bundles_for_size(300):
        served = client.get(f"/api/v1/log/{ref.path}", HTTP_ACCEPT_ENCODING="identity").content
        assert (tmp_path / ref.path).read_bytes() == served, ref.path
    assert (tmp_path / "checkpoint").read_text() == client.get("/api/v1/log/checkpoint").text
    full = (tmp_path / "tile/0/000").stat().st_mtime_ns
    batch(300, start=300)
    second = write_tiles(tmp_path)
    # tile/0/000 and tile/entries/000 kept; 001 full and 002.p/88 new (and tile/1/000.p/2);
    # the partial 001.p/44 tiles are superseded by the full ones and removed
    assert (second.size, second.kept) == (600, 2)
    assert (tmp_path / "tile/0/000").stat().st_mtime_ns == full
    assert not (tmp_path / "tile/0/001.p").exists() or not any(
        (tmp_path / "tile/0/001.p").iterdir()
    )
    assert second.removed == 2
    assert (tmp_path / "tile/0/002.p/88").read_bytes() == client.get(
        "/api/v1/log/tile/0/002.p/88"
    ).content


@pytest.mark.django_db
def test_verify_url_computes_inclusion_and_consistency_from_tiles(tmp_path, capsys, wsgi_client):
    import argparse

    from pacte.journal import cli
    from pacte.journal.keys import get_signer

    batch(300)
    saved = tmp_path / "old"
    saved.write_text(wsgi_client().get("/api/v1/log/checkpoint").text)
    batch(100, start=300)
    seen: list[str] = []
    http = wsgi_client()
    http.event_hooks["request"] = [lambda request: seen.append(request.url.path)]

    def run(**kw) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        args = argparse.Namespace(
            url="http://testserver",
            dir=None,
            key=get_signer().verifier_key,
            checkpoint=str(saved),
            quiet=True,
            index=[0, 299, 399],
            proofs_only=True,
        )
        vars(args).update(kw)
        code = cli.cmd_verify(args, client=http)
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = run()
    assert code == 0, out
    assert "précédent (taille 300)" in out and "Entrée 399 incluse" in out
    # only the checkpoint and tiles were read: no proof endpoint, no entry page
    assert all(p.endswith("/checkpoint") or "/tile/" in p for p in seen), seen
    assert not any("/tile/entries/" in p for p in seen)
    code, out = run(index=[400])
    assert code == 1 and "400" in out
    # the full verification reads the entry bundles
    seen.clear()
    code, out = run(proofs_only=False, index=[])
    assert code == 0 and "400 entrées" in out
    assert any("/tile/entries/" in p for p in seen) and not any("/entries?" in p for p in seen)
