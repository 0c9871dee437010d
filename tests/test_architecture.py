"""The code's shape, checked: the import-linter contracts of pyproject.toml hold, and src/pacte
has no import cycle except the known ones listed here (each with what removes it)."""

from __future__ import annotations

from pathlib import Path

import grimp
import numpy as np
from importlinter.cli import lint_imports
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parent.parent

# Import cycles that remain, each removed by work in progress; when one goes away, delete it
# here: the test fails on any cycle that is not listed, and on a listed one that is gone.
KNOWN_CYCLES: set[frozenset[str]] = set()  # none: keep it so


def import_cycles(package: str) -> set[frozenset[str]]:
    """The groups of modules that import each other, directly or not (the strongly connected
    components of more than one module in the import graph, function-level imports included)."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    number = {m: i for i, m in enumerate(modules)}
    edges = [
        (number[m], number[n]) for m in modules for n in graph.find_modules_directly_imported_by(m)
    ]
    rows, cols = (np.array(side, dtype=np.int64) for side in zip(*edges, strict=True))
    matrix = coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(modules), len(modules)))
    _, labels = connected_components(matrix, directed=True, connection="strong")
    groups: dict[int, set[str]] = {}
    for module, label in zip(modules, labels, strict=True):
        groups.setdefault(int(label), set()).add(module)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def test_import_contracts_hold():
    """engines pure; domains below the root modules; domain layers (see pyproject.toml)."""
    assert (
        lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
    )


def test_no_import_cycle_but_the_known_ones():
    cycles = import_cycles("pacte")
    assert cycles - KNOWN_CYCLES == set(), "new import cycle(s)"
    assert KNOWN_CYCLES - cycles == set(), "a known cycle is gone: remove it from KNOWN_CYCLES"


def test_the_cycle_finder_finds_a_cycle_of_three(tmp_path, monkeypatch):
    package = tmp_path / "knot"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from knot import b\n")
    (package / "b.py").write_text("def f():\n    from knot import c\n")  # function-level counts
    (package / "c.py").write_text("import knot.a\n")
    (package / "d.py").write_text("import knot.a\n")  # imports the knot, is not in it
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("knot") == {frozenset({"knot.a", "knot.b", "knot.c"})}
