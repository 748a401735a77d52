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


# -- what sits at the name: links are written through, pipes and devices straight into,
# -- and nothing that is not a regular file is ever replaced

def test_output_writes_through_a_relative_link_chain(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "real.json"
    real.write_text("old")
    (tmp_path / "middle.json").symlink_to(Path("reports") / "real.json")
    link = tmp_path / "link.json"
    link.symlink_to("middle.json")
    write_output(link, b"{}")
    assert link.is_symlink()
    assert (tmp_path / "middle.json").is_symlink()
    assert real.read_text() == "{}"


def test_output_through_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    write_output(link, b"{}")
    assert link.is_symlink()
    assert (tmp_path / "new.json").read_text() == "{}"


def test_output_into_a_fifo_reaches_its_reader(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, b"x" * 200_000)  # more than a pipe holds: the reader drains it
    reader.join(timeout=10)
    assert received == [b"x" * 200_000]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_output_into_a_character_device_leaves_it_a_device() -> None:
    write_output(Path(os.devnull), b"report")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("kind", ["folder", "link to a folder", "socket"])
def test_output_refuses_what_it_must_not_replace(tmp_path: Path, kind: str) -> None:
    import socket

    target = tmp_path / "out"
    if kind == "folder":
        target.mkdir()
        what = "a folder"
    elif kind == "link to a folder":
        (tmp_path / "dir").mkdir()
        target.symlink_to(tmp_path / "dir")
        what = "a folder"
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
        server.close()  # the socket file stays
        what = "a socket"
    with pytest.raises(UsageError) as raised:
        write_output(target, b"report")
    assert raised.value.message == f"cannot write {target}: it is {what}"
    assert not stat.S_ISREG(target.stat().st_mode)


def test_the_atomic_writer_never_replaces_a_fifo(tmp_path: Path) -> None:
    """A drill's file target holds a secret: it is written only into a regular file."""
    fifo = tmp_path / "credentials"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="a pipe, not a regular file"):
        atomic_write(fifo, "secret")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_output_to_dev_stdout_appended_to_a_log_keeps_the_log(tmp_path: Path,
                                                               name: str) -> None:
    """`irready report audit -o /dev/stdout >> log`: the report is appended where the
    shell's descriptor stands; the log is neither replaced nor overwritten from its
    start."""
    import subprocess
    import sys

    from clikit import user_env
    from test_history_store import a_run

    from auditor.store import HistoryStore

    store = tmp_path / "history.sqlite3"
    with HistoryStore(store) as history:
        history.save_run(a_run())
    log = tmp_path / "log"
    log.write_text("earlier lines\n")
    inode = log.stat().st_ino
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, "-m", "auditor", "report", "audit", "-f", "json", "-o", name,
             "--history", str(store)],
            stdout=out, stderr=subprocess.PIPE, env=user_env(tmp_path), cwd=tmp_path,
            text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, f"wrote {name}\n")
    assert log.stat().st_ino == inode
    text = log.read_text()
    assert text.startswith("earlier lines\n{")
    assert '"schema": "irready.audit/1"' in text
