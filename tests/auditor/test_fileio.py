"""The one atomic writer: a reader sees the old content or the new, a file keeps its
mode, a link stays a link, a planted temporary file is never written through, and a
folder that is a file is one line, not a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.fileio import atomic_write, temporary_name, write_output


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "report.json", b"{}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644


def test_a_link_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    link = tmp_path / "link.env"
    link.symlink_to(real)
    atomic_write(link, "A=2\n")
    assert link.is_symlink()
    assert real.read_text() == "A=2\n"


def test_a_link_planted_at_the_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    path = tmp_path / "secret.env"
    path.write_text("A=1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched")
    temporary_name(path).symlink_to(elsewhere)
    atomic_write(path, "A=2\n")
    assert path.read_text() == "A=2\n"
    assert elsewhere.read_text() == "untouched"
    assert not temporary_name(path).exists()


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda folder: folder.write_text("a file"), "is not a folder",
                 id="a folder that is a file"),
    pytest.param(lambda folder: None, "does not exist", id="a folder that does not exist"),
])
def test_an_output_whose_folder_is_wrong_is_one_line(tmp_path: Path, make: object,
                                                     message: str) -> None:
    folder = tmp_path / "out"
    assert callable(make)
    make(folder)
    with pytest.raises(UsageError, match=message):
        write_output(folder / "report.pdf", b"%PDF")
