"""OCI labels and the git facts behind them, read from ``.git`` (no engine needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from imagec import __version__
from imagec.backend.engine import labels
from imagec.backend.engine.labels import find_git_dir, head_revision, oci_labels, origin_url

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_SYSTEM": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "src").mkdir()
    (root / "src/a.py").write_text("x = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "one")
    return root


def test_created_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert labels.created() == "2023-11-14T22:13:20Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert labels.created(now=0) == "1970-01-01T00:00:00Z"


def test_labels_outside_git_carry_no_host_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert oci_labels(tmp_path, "c" * 64) == {
        "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
        "dev.imagec.content-hash": "c" * 64,
        "dev.imagec.version": __version__,
    }
    assert "org.opencontainers.image.source" not in oci_labels(None, "c" * 64)


@needs_git
def test_revision_from_loose_and_packed_refs_and_detached_head(repo):
    head = git(repo, "rev-parse", "HEAD")
    found = find_git_dir(repo / "src")
    assert found == repo / ".git"
    assert head_revision(found, repo) == head
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git/refs/heads/main").exists()
    assert head_revision(found, repo) == head
    git(repo, "checkout", "-q", "--detach")
    assert head_revision(found, repo) == head


@needs_git
def test_revision_in_a_worktree(repo, tmp_path):
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    (tmp_path / "wt/b.py").write_text("y = 2\n")
    git(tmp_path / "wt", "add", ".")
    git(tmp_path / "wt", "commit", "-q", "-m", "two")
    found = find_git_dir(tmp_path / "wt")
    assert found is not None and found.parent.name == "worktrees"
    assert head_revision(found, tmp_path / "wt") == git(tmp_path / "wt", "rev-parse", "HEAD")


@needs_git
def test_source_is_the_origin_url_without_credentials(repo):
    git(repo, "remote", "add", "origin", "https://ci-bot:s3cret@git.example.com/team/proj.git")
    result = oci_labels(repo / "src", "c" * 64)
    assert result["org.opencontainers.image.source"] == "https://git.example.com/team/proj.git"
    assert result["org.opencontainers.image.revision"] == git(repo, "rev-parse", "HEAD")
    assert origin_url(repo / ".git") == "https://git.example.com/team/proj.git"


@needs_git
def test_scp_style_remote_is_kept_without_its_user(repo):
    git(repo, "remote", "add", "origin", "git@git.example.com:team/proj.git")
    assert origin_url(repo / ".git") == "git.example.com:team/proj.git"


@needs_git
def test_repository_without_a_remote_has_no_source_label(repo):
    result = oci_labels(repo / "src", "c" * 64)
    assert "org.opencontainers.image.source" not in result
    assert str(repo) not in "".join(result.values())
    assert result["org.opencontainers.image.revision"] == git(repo, "rev-parse", "HEAD")


@needs_git
@pytest.mark.parametrize(
    "url", ["/srv/git/proj.git", "../proj", "file:///srv/git/proj.git", "~/proj.git"]
)
def test_a_local_path_remote_is_left_out(repo, url):
    git(repo, "remote", "add", "origin", url)
    assert origin_url(repo / ".git") is None
    assert "org.opencontainers.image.source" not in oci_labels(repo, "c" * 64)


@needs_git
def test_another_remote_when_there_is_no_origin(repo):
    git(repo, "remote", "add", "upstream", "https://tok@git.example.com/up/proj.git")
    assert origin_url(repo / ".git") == "https://git.example.com/up/proj.git"


def test_config_is_parsed_as_git_writes_it(tmp_path):
    (tmp_path / "config").write_text(
        "[core]\n\turl = https://not-a-remote.example.com\n"
        '[remote "mirror"]\n\turl = https://m.example.com/p.git\n'
        '[remote "origin"]\n\turl = "https://u:p@git.example.com/p.git" ; a comment\n'
    )
    assert origin_url(tmp_path) == "https://git.example.com/p.git"


def test_oversized_or_special_git_config_is_not_read(tmp_path):
    config = tmp_path / "config"
    config.write_text('[remote "origin"]\n\turl = https://git.example.com/p.git\n')
    assert origin_url(tmp_path) == "https://git.example.com/p.git"
    with config.open("a") as f:
        f.write("#" * labels.CONFIG_LIMIT)
    assert origin_url(tmp_path) is None
    config.unlink()
    os.mkfifo(config)  # reading a FIFO would block the build
    assert origin_url(tmp_path) is None


def test_unborn_branch_has_no_revision(tmp_path):
    (tmp_path / ".git/refs/heads").mkdir(parents=True)
    (tmp_path / ".git/HEAD").write_text("ref: refs/heads/main\n")
    assert head_revision(tmp_path / ".git", tmp_path) is None


def test_build_record_label_is_build_json_in_compact_form(tmp_path):
    # What `imagec inspect` reads from the image's JSON instead of the file in a container:
    # a label of the plan's own LABEL step, so an exported Containerfile's image has it too.
    from imagec.plan.ir import Label
    from imagec.project import load_project
    from imagec.runtime.buildinfo import BUILD_INFO_LABEL

    spec = tmp_path / "imagec.yaml"
    text = (
        "requirements: [requests>=2.31]\nindex_url: https://user:${TOKEN}@pypi.example/simple\n"
        "secrets: [{id: tok, env: TOKEN}]\ncommand: [python, x.py]\n"
    )
    spec.write_text(text)
    plan = load_project(str(spec)).plan
    (record,) = [f.content for f in plan.files if f.path == "imagec/build.json"]
    (label,) = [
        v for s in plan.steps if isinstance(s, Label) for k, v in s.pairs if k == BUILD_INFO_LABEL
    ]
    assert json.loads(label) == json.loads(record)
    assert "\n" not in label and len(label) < len(record)
    assert "${TOKEN}" in label  # the reference, never a value: the spec refuses credentials
    assert BUILD_INFO_LABEL not in oci_labels(None, "c" * 64)
    # A record longer than BUILD_INFO_LABEL_LIMIT (8 KiB) is left to the file.
    spec.write_text(text + f"labels: {{a: {'v' * 4096}, b: {'w' * 4096}}}\n")
    plan = load_project(str(spec)).plan
    assert not [
        k for s in plan.steps if isinstance(s, Label) for k, _ in s.pairs if k == BUILD_INFO_LABEL
    ]
