"""dbt runs outside cosmos write a private target path, seeded with the project's partial parse."""

from __future__ import annotations

from warehouse import dbt


def test_private_target_copies_the_partial_parse_and_is_removed_after(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    (project / "target").mkdir(parents=True)
    (project / "target" / "partial_parse.msgpack").write_bytes(b"\x81\xa1k\xa1v")
    (project / "target" / "manifest.json").write_text("{}")
    monkeypatch.setattr(dbt, "DBT_PROJECT_DIR", project)

    with dbt.private_target() as target:
        assert target != project / "target"
        assert [p.name for p in target.iterdir()] == ["partial_parse.msgpack"]
        assert (target / "partial_parse.msgpack").read_bytes() == b"\x81\xa1k\xa1v"
        (target / "manifest.json").write_text('{"written": "here"}')
    assert not target.exists()
    assert (project / "target" / "manifest.json").read_text() == "{}"


def test_private_target_without_a_partial_parse_is_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt, "DBT_PROJECT_DIR", tmp_path / "dbt_project")
    with dbt.private_target() as target:
        assert target.is_dir() and list(target.iterdir()) == []
