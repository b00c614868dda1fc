"""The package's shape, as docs/architecture.md draws it: which package may import which, no import
circles, no private name used across modules, and no heavy framework loaded by importing the package.

Imports are read from the source (every ``import`` statement, also those inside functions and under
``TYPE_CHECKING``), so a lazy import cannot hide a wrong direction or a circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "movielens_lessons"

#: Top-level modules every package may use: the shared vocabulary (column names, error types, the one
#: recommendations type) and the package's own version.
SHARED = {"columns", "errors", "recommendations", "<root>"}

#: Which packages each package may import besides :data:`SHARED` (the arrows of docs/architecture.md:
#: data ← features ← models ← experiments ← cli / serving; evaluation judges anyone's recommendations
#: and knows only data; reporting owns the look and knows nothing of the rest).
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "recommendations": {"data"},
    "features": {"data"},
    "evaluation": {"data"},
    "reporting": set(),
    "eda": {"data", "features", "reporting"},
    "spark": {"data", "evaluation"},
    "models": {"data", "features", "evaluation", "spark"},
    "experiments": {"data", "features", "evaluation", "models", "reporting", "spark"},
    "serving": {"data", "features", "evaluation", "models", "experiments", "reporting"},
    "cli": {"data", "features", "evaluation", "models", "experiments", "eda", "reporting", "serving",
            "spark"},
    "__main__": {"cli"},
}

#: Frameworks that only their own ``models/<framework>/`` subpackage may load (and, for Spark, the
#: ``spark`` package: the session, data path and evaluation that its models and the main job share).
HEAVY = ("pyspark", "torch", "tensorflow", "keras")
FRAMEWORK_PACKAGES = ("models.spark", "models.torch", "models.tf", "spark")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # the project module it resolves to
    names: tuple[str, ...]  # names taken from it (``from x import a, b``); () for ``import x``
    line: int


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under ``src``: dotted name → file (a package is its ``__init__.py``)."""
    out = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def resolve(name: str, mods: dict[str, Path]) -> str:
    """The project module a dotted import name lands in (its longest existing prefix)."""
    while name not in mods and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def package_of(module: str) -> str:
    """``data`` for ``movielens_lessons.data.splits``; ``<root>`` for the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def imports(module: str, mods: dict[str, Path]) -> Iterator[Import]:
    """Every project import in ``module``; ``from pkg import submodule`` resolves to the submodule."""
    tree = ast.parse(mods[module].read_text(), filename=str(mods[module]))
    is_package = mods[module].name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    yield Import(module, resolve(alias.name, mods), (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: anchor it at this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != ROOT:
                continue
            plain = tuple(a.name for a in node.names if f"{source}.{a.name}" not in mods)
            for alias in node.names:
                if f"{source}.{alias.name}" in mods:
                    yield Import(module, f"{source}.{alias.name}", (), node.lineno)
            if plain:
                yield Import(module, resolve(source, mods), plain, node.lineno)


def scan(src: Path) -> tuple[dict[str, Path], list[Import]]:
    """The modules under ``src`` and all their project imports."""
    mods = modules(src)
    return mods, [imp for module in mods for imp in imports(module, mods)]


MODULES, ALL_IMPORTS = scan(SRC)


def test_the_scan_sees_the_package() -> None:
    assert len(MODULES) > 100
    assert any(i.importer.endswith("models.base") and i.target.endswith("data.dataset")
               for i in ALL_IMPORTS)


def test_every_package_has_declared_dependencies() -> None:
    packages = {package_of(m) for m in MODULES} - SHARED
    assert packages <= set(ALLOWED), f"add {sorted(packages - set(ALLOWED))} to ALLOWED"


def wrong_directions(all_imports: list[Import]) -> list[str]:
    """Imports from one package into another that :data:`ALLOWED` does not list."""
    return sorted(
        f"{i.importer}:{i.line} imports {i.target}"
        for i in all_imports
        if (a := package_of(i.importer)) != (b := package_of(i.target))
        and a not in SHARED
        and b not in SHARED | ALLOWED.get(a, set())
    )


def test_packages_import_only_in_the_allowed_directions() -> None:
    wrong = wrong_directions(ALL_IMPORTS)
    assert not wrong, "\n".join(wrong)


def test_shared_modules_stay_at_the_bottom() -> None:
    """columns and errors import nothing of the project; recommendations only data's id mapping."""
    wrong = sorted(
        f"{i.importer}:{i.line} imports {i.target}"
        for i in ALL_IMPORTS
        if package_of(i.importer) in {"columns", "errors"} and package_of(i.target) != "<root>"
    )
    assert not wrong, "\n".join(wrong)


def import_circles(mods: dict[str, Path], all_imports: list[Import]) -> list[set[str]]:
    """Sets of modules that import each other, directly or round a loop."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for i in all_imports:
        if i.target != i.importer:
            graph[i.importer].add(i.target)
    return strongly_connected(graph)


def test_no_import_circles() -> None:
    cycles = import_circles(MODULES, ALL_IMPORTS)
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def private_crossings(mods: dict[str, Path], all_imports: list[Import]) -> list[str]:
    """``from x import _name``, and ``x._name`` on an imported project module ``x``, anywhere."""
    wrong = [
        f"{i.importer}:{i.line} imports {name} from {i.target}"
        for i in all_imports
        for name in i.names
        if name.startswith("_") and not name.startswith("__") and i.target != i.importer
    ]
    for module, path in mods.items():
        bound = dict(module_aliases(module, mods))
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in bound and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module}:{node.lineno} uses {bound[node.value.id]}.{node.attr}")
    return sorted(wrong)


def test_no_private_name_crosses_a_module() -> None:
    wrong = private_crossings(MODULES, ALL_IMPORTS)
    assert not wrong, "\n".join(wrong)


def module_aliases(module: str, mods: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """Local names bound to project modules in ``module`` (``from pkg import mod``, ``import a.b as c``)."""
    for node in ast.walk(ast.parse(mods[module].read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in mods:
                    yield alias.asname, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in mods:
                    yield alias.asname or alias.name, full


@pytest.mark.parametrize("seeded", ["a private name", "a circle", "a wrong direction"])
def test_the_checks_catch_what_they_look_for(seeded: str, tmp_path: Path) -> None:
    """The scan itself, on a throwaway package with one violation each."""
    files = {
        "a private name": {"data/x.py": "from movielens_lessons.data.y import _secret\n",
                           "data/y.py": "_secret = 1\n"},
        "a circle": {"data/x.py": "import movielens_lessons.data.y\n",
                     "data/y.py": "from movielens_lessons.data import x\n"},
        "a wrong direction": {"data/x.py": "from movielens_lessons.models.y import thing\n",
                              "models/y.py": "thing = 1\n"},
    }[seeded]
    for rel, text in {"__init__.py": "", "data/__init__.py": "", "models/__init__.py": "",
                      **files}.items():
        (tmp_path / ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ROOT / rel).write_text(text)
    mods, found = scan(tmp_path)
    problems = {
        "a private name": private_crossings(mods, found),
        "a circle": import_circles(mods, found),
        "a wrong direction": wrong_directions(found),
    }
    assert [kind for kind, seen in problems.items() if seen] == [seeded]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of more than one node (the import circles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_importing_the_package_loads_no_heavy_framework() -> None:
    """Every module outside models/{spark,torch,tf} imports without loading Spark, PyTorch or
    TensorFlow; so does each framework subpackage's ``__init__`` (its models load them, lazily)."""
    names = [m for m in MODULES
             if not any(m.startswith(f"{ROOT}.{p}.") for p in FRAMEWORK_PACKAGES)
             and not m.endswith("__main__")]
    script = textwrap.dedent(f"""
        import importlib, sys
        for name in {names!r}:
            importlib.import_module(name)
        from movielens_lessons.models import registry
        for model in registry.model_names():
            if registry.get_spec(model).extra not in ("spark", "torch", "tf"):
                registry.get_model_class(model)
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print("loaded:", loaded)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("loaded: []"), run.stdout
