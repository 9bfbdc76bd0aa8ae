"""The labels that name an engine build go into the sent Containerfile's last LABEL, which is
the archive's last member, after what the content hash covers."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from imagec.backend.buildcontext import BuildContext
from imagec.backend.containerfile import UnencodableValue, render, with_labels
from imagec.plan.ir import ContextDir, ContextFile, From, Label, Origin, Plan, Run

AT = Origin("test")
TEXT = 'FROM a\nLABEL "x"="1"\nFROM b\nRUN ["true"]\nLABEL "y"="2"\nCMD ["run"]\n'


def test_labels_join_the_last_label_of_the_last_stage() -> None:
    labels = {"dev.imagec.content-hash": "ab12", "team": 'm"l$x'}
    out = with_labels(TEXT, labels)
    assert out.splitlines()[4] == (
        'LABEL "y"="2" "dev.imagec.content-hash"="ab12" "team"="m\\"l\\$x"'
    )
    assert out.splitlines()[:4] + out.splitlines()[5:] == [*TEXT.splitlines()[:4], 'CMD ["run"]']
    assert with_labels(TEXT, {}) == TEXT


def test_a_last_stage_without_label_gets_one_at_the_end() -> None:
    text = 'FROM a\nLABEL "x"="1"\nFROM b\nRUN ["true"]\n'
    assert with_labels(text, {"k": "v"}) == text + 'LABEL "k"="v"\n'


def test_a_label_the_syntax_cannot_carry_names_its_key() -> None:
    with pytest.raises(UnencodableValue, match="'team'"):
        with_labels(TEXT, {"team": "line\nbreak"})


def _context(tmp_path: Path, text: str) -> BuildContext:
    if not (tmp_path / "src").exists():
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "a.py").write_text("print(1)\n")
    plan = Plan(
        steps=(From(AT, "python:3.11-slim"), Run(AT, ("true",)), Label(AT, (("k", "v"),))),
        files=(ContextFile("imagec/build.json", "{}\n"),),
        dirs=(ContextDir(root=str(tmp_path / "src"), dest="src"),),
    )
    return BuildContext(plan, "Containerfile", text)


def test_the_build_file_is_sent_last_and_outside_the_digest(tmp_path: Path) -> None:
    base = _context(tmp_path, "FROM python:3.11-slim\n")
    sent = io.BytesIO()
    labelled = with_labels(base.build_file_text, {"dev.imagec.content-hash": base.content_hash})
    digest = base.write_tar(sent, build_file_text=labelled)
    assert digest == base.tar_digest
    with tarfile.open(fileobj=io.BytesIO(sent.getvalue())) as tar:
        members = tar.getmembers()
        assert members[-1].name == "Containerfile"
        assert tar.extractfile(members[-1]).read().decode() == labelled  # type: ignore[union-attr]
        names = [m.name for m in members]
    assert names.count("Containerfile") == 1
    assert {"imagec/build.json", "src/a.py"} <= set(names)
    # The archive before the build file is the hashed one: the same bytes, its end marker moved.
    alone = io.BytesIO()
    base.write_tar(alone)
    assert (
        sent.getvalue()[: sent.getvalue().index(b"Containerfile")]
        == (alone.getvalue()[: alone.getvalue().index(b"Containerfile")])
    )


def test_the_content_hash_covers_the_hashed_build_file_and_the_rest(tmp_path: Path) -> None:
    one = _context(tmp_path, "FROM python:3.11-slim\n")
    other = _context(tmp_path, "FROM python:3.12-slim\n")
    assert one.tar_digest == other.tar_digest
    assert one.content_hash != other.content_hash
    (tmp_path / "src" / "a.py").write_text("print(2)\n")
    changed = _context(tmp_path, "FROM python:3.11-slim\n")
    assert changed.content_hash != one.content_hash


def test_a_rendered_plan_takes_the_labels_in_its_own_label_step(tmp_path: Path) -> None:
    context = _context(tmp_path, "")
    text = render(context.plan, comments=False)
    out = with_labels(text, {"dev.imagec.content-hash": "ab"})
    assert out.count("LABEL ") == 1 and out.rstrip().endswith('"dev.imagec.content-hash"="ab"')
