"""`make test`'s pytest-xdist groups (tests/conftest.py): a package whose conftest builds something
once per package or session runs whole on one worker, so the workers do not each build it."""

from __future__ import annotations

import ast

from tests.conftest import FIRST_GROUPS, TESTS_DIR, WHOLE_PACKAGE_GROUPS, xdist_group


def _shared_scope_fixtures(conftest) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(conftest.read_text())):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            scopes = [kw.value for kw in getattr(deco, "keywords", []) if kw.arg == "scope"]
            if any(isinstance(s, ast.Constant) and s.value in ("package", "session") for s in scopes):
                names.append(node.name)
    return names


def test_packages_with_package_or_session_fixtures_are_one_group():
    shared = {
        conftest.parent.name: names
        for conftest in TESTS_DIR.glob("*/conftest.py")
        if (names := _shared_scope_fixtures(conftest))
    }
    assert shared, "no package conftest defines a package- or session-scoped fixture: the check sees nothing"
    assert set(shared) <= set(WHOLE_PACKAGE_GROUPS), {p: f for p, f in shared.items() if p not in WHOLE_PACKAGE_GROUPS}
    for package in shared:
        files = list((TESTS_DIR / package).glob("test_*.py"))
        assert files and {xdist_group(f) for f in files} == {package}


def test_other_test_files_are_groups_of_their_own():
    assert xdist_group(TESTS_DIR / "pipeline" / "test_dagbag.py") == "pipeline/test_dagbag.py"
    assert xdist_group(TESTS_DIR / "test_layout.py") == "test_layout.py"


def test_the_groups_named_first_exist():
    for group in FIRST_GROUPS:
        assert (TESTS_DIR / group).exists(), group
