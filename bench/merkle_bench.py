#!/usr/bin/env python3
"""Benchmark of pacte.engines.merkle against pymerkle (no Django).

Run from a separate bench venv so that pymerkle never enters the project venv::

    python3 -m venv bench/.venv
    bench/.venv/bin/pip install pymerkle rich
    bench/.venv/bin/pip install --no-deps -e .
    bench/.venv/bin/python bench/merkle_bench.py [--sizes 1000000,10000000] [--quick]

Measures, for each size: building the tree, inclusion and consistency proofs per
second (generation, and verification separately) at random indices; and the full
verification of a 1M-entry list (recompute the root from the entries and check it
against a signed checkpoint).  pymerkle does the same work in the same run, up to
``--pymerkle-max`` leaves (its in-memory tree keeps one Python object per node).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from pacte.engines import merkle, note

BATCH = 100_000


def entry(i: int) -> bytes:
    return b'{"i":%d,"type":"bench.event"}' % i


def entries(start: int, stop: int) -> Iterator[list[bytes]]:
    for lo in range(start, stop, BATCH):
        yield [entry(i) for i in range(lo, min(lo + BATCH, stop))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def load_pymerkle() -> ModuleType | None:
    try:
        import pymerkle  # type: ignore[import-not-found]
    except ImportError:
        return None
    return pymerkle  # type: ignore[no-any-return]


# ----------------------------------------------------------------------- pacte


def bench_pacte(n: int, k: int, rng: random.Random) -> dict[str, float]:
    res: dict[str, float] = {}
    tree = merkle.MerkleTree(merkle.MemoryNodeStore())
    lh = merkle.leaf_hash

    def build() -> None:
        for batch in entries(0, n):
            tree.append_many([lh(e) for e in batch])

    res["build_s"], _ = timed(build)
    root = tree.root()
    idx = [rng.randrange(n) for _ in range(k)]
    dt, proofs = timed(lambda: [tree.inclusion_proof(i) for i in idx])
    res["incl_gen"] = k / dt
    leaves = [lh(entry(i)) for i in idx]

    def vin() -> None:
        for i, leaf, p in zip(idx, leaves, proofs, strict=True):
            merkle.verify_inclusion(leaf, i, n, p, root)

    dt, _ = timed(vin)
    res["incl_ver"] = k / dt

    olds = [rng.randint(1, n) for _ in range(k)]
    dt, cproofs = timed(lambda: [tree.consistency_proof(o) for o in olds])
    res["cons_gen"] = k / dt
    oroots = [tree.root(o) for o in olds]

    def vcons() -> None:
        for o, r_o, p in zip(olds, oroots, cproofs, strict=True):
            merkle.verify_consistency(o, n, r_o, root, p)

    dt, _ = timed(vcons)
    res["cons_ver"] = k / dt
    res["rss_mb"] = rss_mb()
    return res


def full_verify_pacte(n: int) -> tuple[float, bytes]:
    """Recompute the root of n entries and check it against a signed checkpoint."""
    data = [entry(i) for i in range(n)]
    signer = note.generate_signer("bench.example/log")
    r = merkle.root(data)
    signed = signer.sign(note.checkpoint("bench.example/log", n, r))
    gc.collect()

    def run() -> bytes:
        text = note.verify(signed, [signer.verifier_key])
        _, size, want = note.parse_checkpoint(text)
        got = merkle.root(data[:size])
        if got != want:
            raise SystemExit("root mismatch")
        return got

    dt, got = timed(run)
    return dt, got


# -------------------------------------------------------------------- pymerkle


def bench_pymerkle(pm: ModuleType, n: int, k: int, rng: random.Random) -> dict[str, float]:
    res: dict[str, float] = {}
    tree = pm.InmemoryTree(algorithm="sha256")

    def build() -> None:
        for batch in entries(0, n):
            tree.append_entries(batch)

    res["build_s"], _ = timed(build)
    root = tree.get_root()
    idx = [rng.randrange(n) for _ in range(k)]
    dt, proofs = timed(lambda: [tree.prove_inclusion(i + 1) for i in idx])  # 1-based
    res["incl_gen"] = k / dt
    leaves = [tree.get_leaf(i + 1) for i in idx]

    def vin() -> None:
        for leaf, p in zip(leaves, proofs, strict=True):
            pm.verify_inclusion(leaf, root, p)

    dt, _ = timed(vin)
    res["incl_ver"] = k / dt
    olds = [rng.randint(1, n) for _ in range(k)]
    dt, cproofs = timed(lambda: [tree.prove_consistency(o, n) for o in olds])
    res["cons_gen"] = k / dt
    oroots = [tree.get_root(o) for o in olds]

    def vcons() -> None:
        for r_o, p in zip(oroots, cproofs, strict=True):
            pm.verify_consistency(r_o, root, p)

    dt, _ = timed(vcons)
    res["cons_ver"] = k / dt
    res["rss_mb"] = rss_mb()
    return res


def full_verify_pymerkle(pm: ModuleType, n: int, want: bytes) -> float:
    data = [entry(i) for i in range(n)]
    gc.collect()

    def run() -> None:
        t = pm.InmemoryTree(algorithm="sha256")
        t.append_entries(data)
        if t.get_root() != want:
            raise SystemExit("pymerkle root differs from pacte root")

    dt, _ = timed(run)
    return dt


def sanity(pm: ModuleType | None) -> str:
    """Both engines must agree on RFC 6962 roots and proofs (small sizes)."""
    if pm is None:
        return "pymerkle absent"
    for n in (1, 2, 3, 7, 8, 13, 64, 100):
        d = [entry(i) for i in range(n)]
        t = pm.InmemoryTree(algorithm="sha256")
        t.append_entries(d)
        ours = merkle.MerkleTree(merkle.MemoryNodeStore())
        ours.append_many([merkle.leaf_hash(e) for e in d])
        if t.get_root() != ours.root():
            return f"ROOT MISMATCH at n={n}"
        for i in range(n):
            p = t.prove_inclusion(i + 1)
            merkle.verify_inclusion(t.get_leaf(i + 1), i, n, ours.inclusion_proof(i), t.get_root())
            pm.verify_inclusion(merkle.leaf_hash(d[i]), ours.root(), p)
    return "pymerkle and pacte agree on roots/proofs for sizes 1..100"


# ------------------------------------------------------------------------ main


def fmt_rate(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}/s"


def fmt_s(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--proofs", type=int, default=5000, help="proofs of each kind per size")
    ap.add_argument("--pymerkle-max", type=int, default=10_000_000)
    ap.add_argument("--verify-size", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="sizes 100000, 1000 proofs")
    ap.add_argument("--seed", type=int, default=6962)
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.proofs, a.verify_size = "100000", 1000, 100_000
    sizes = [int(s) for s in a.sizes.split(",") if s]
    pm = load_pymerkle()

    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"python {sys.version.split()[0]}, hashlib sha256 ({hashlib.sha256().name})")
    con.print(sanity(pm))

    rows: list[tuple[str, str, str, str, str]] = []

    def add(
        metric: str, size: int, ours: float, theirs: float | None, rate: bool, note_: str = ""
    ) -> None:
        if rate:
            ratio = "" if theirs is None else f"{ours / theirs:,.1f}×"
            rows.append((metric, f"{size:,}", fmt_rate(ours), fmt_rate(theirs) + note_, ratio))
        else:
            ratio = "" if theirs is None else f"{theirs / ours:,.1f}×"
            rows.append((metric, f"{size:,}", fmt_s(ours), fmt_s(theirs) + note_, ratio))

    for n in sizes:
        con.print(f"[bold]pacte[/] n={n:,} …")
        ours = bench_pacte(n, a.proofs, random.Random(a.seed))
        theirs: dict[str, float] | None = None
        tag = ""
        if pm is None:
            tag = " (pymerkle absent)"
        elif n > a.pymerkle_max:
            tag = f" (skipped > {a.pymerkle_max:,})"
        else:
            con.print(f"[bold]pymerkle[/] n={n:,} …")
            theirs = bench_pymerkle(pm, n, a.proofs, random.Random(a.seed))

        def t(key: str, th: dict[str, float] | None = theirs) -> float | None:
            return None if th is None else th[key]

        add("build tree", n, ours["build_s"], t("build_s"), False, tag)
        add("inclusion proof gen", n, ours["incl_gen"], t("incl_gen"), True, tag)
        add("inclusion proof verify", n, ours["incl_ver"], t("incl_ver"), True, tag)
        add("consistency proof gen", n, ours["cons_gen"], t("cons_gen"), True, tag)
        add("consistency proof verify", n, ours["cons_ver"], t("cons_ver"), True, tag)
        rows.append(("peak RSS so far", f"{n:,}", f"{ours['rss_mb']:,.0f} MB", "", ""))
        gc.collect()

    if a.verify_size:
        n = a.verify_size
        con.print(f"full verification n={n:,} …")
        dt, r = full_verify_pacte(n)
        other: float | None = None
        tag = " (pymerkle absent)" if pm is None else ""
        if pm is not None:
            other = full_verify_pymerkle(pm, n, r)
        add("full verify (root from entries + checkpoint)", n, dt, other, False, tag)

    table = Table(title="pacte.engines.merkle vs pymerkle (ratio = how many times faster pacte is)")
    for col in ("metric", "size", "pacte", "pymerkle", "ratio"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in rows:
        table.add_row(*row)
    con.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
