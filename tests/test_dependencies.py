"""Every core dependency earns its place: ``src/movielens_lessons`` imports it, or an allow-list entry
says why it is installed anyway. A library only the tests use belongs in the ``dev`` extra."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the tomli backport, a core dependency there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "movielens_lessons"

#: Distribution name → top-level import name, where the two differ by more than ``-`` vs ``_``.
IMPORT_NAMES = {
    "scikit-learn": "sklearn",
    "pyyaml": "yaml",
    "lightfm-next": "lightfm",
    "xgboost-cpu": "xgboost",
    "tensorflow-cpu": "tensorflow",
    "beautifulsoup4": "bs4",
    "pillow": "PIL",
}

#: Core dependencies that src/ does not import, and why each is installed anyway. Each entry is
#: checked by the test of the same name below, so the reason cannot go stale silently.
NOT_IMPORTED: set[str] = set()  # tqdm was here for pooch's bars until the PyTorch models drew their own


def _name(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement (``"tomli-w>=1.0"`` → ``tomli-w``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _import_name(distribution: str) -> str:
    return IMPORT_NAMES.get(distribution, distribution.replace("-", "_"))


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _trees() -> list[ast.Module]:
    return [ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(SRC.rglob("*.py"))]


def _imported_top_levels() -> set[str]:
    """Top-level names of every absolute import in src/, lazy and conditional ones included."""
    names: set[str] = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_core_dependency_is_imported_by_the_package() -> None:
    imported = _imported_top_levels()
    unused = [
        requirement
        for requirement in _project()["dependencies"]
        if _name(requirement) not in NOT_IMPORTED and _import_name(_name(requirement)) not in imported
    ]
    assert not unused, (
        f"core dependencies that src/movielens_lessons never imports: {unused}; move a library "
        "only the tests use to the 'dev' extra, or add it to NOT_IMPORTED with the reason"
    )


def test_the_allow_list_names_only_core_dependencies() -> None:
    core = {_name(r) for r in _project()["dependencies"]}
    assert core >= NOT_IMPORTED
    # an entry that src/ does import needs no excuse: drop it from the list
    assert not {_import_name(n) for n in NOT_IMPORTED} & _imported_top_levels()


def test_tomli_is_only_installed_where_tomllib_is_missing() -> None:
    (tomli,) = [r for r in _project()["dependencies"] if _name(r) == "tomli"]
    assert re.search(r"""python_version\s*<\s*['"]3\.11['"]""", tomli), tomli


def test_test_only_libraries_stay_out_of_the_core() -> None:
    """scikit-learn is the tests' reference implementation (e.g. ``roc_auc_score``) only."""
    project = _project()
    assert "scikit-learn" not in {_name(r) for r in project["dependencies"]}
    assert "scikit-learn" in {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert "sklearn" not in _imported_top_levels()


def test_the_check_catches_an_unused_dependency() -> None:
    """The name mapping is right for the dependencies we have, and a stranger is not 'imported'."""
    imported = _imported_top_levels()
    assert _import_name(_name("tomli-w>=1.0")) == "tomli_w" in imported
    assert _import_name(_name("scikit-learn>=1.3")) == "sklearn" not in imported
    assert _import_name(_name("left-pad>=1")) not in imported
