"""A containment's time to safe in the compliance PDF for management, next to the
drills' rehearsed times: a real containment in moto, the real PDF read back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import clikit
import pytest
from containkit import APP_USER, TARGET, Account

from auditor.errors import ExitCode


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(path.read_bytes())).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


@pytest.mark.pdf
def test_the_compliance_pdf_shows_the_time_to_safe_and_how(account: Account) -> None:
    history = account.tmp / "history.sqlite3"
    config = clikit.write_config(account.tmp, (
        f'[history]\npath = "{history}"\n\n[drill]\npropagation_timeout_seconds = 1\n\n'
        f'[[inventory]]\nuser = "{APP_USER}"\nowner = "mail team"\n'
        f'rotation_target = "{TARGET}"\n'))
    credentials = account.operator.get_credentials()
    env = {"AWS_ACCESS_KEY_ID": credentials.access_key,
           "AWS_SECRET_ACCESS_KEY": credentials.secret_key}
    leaked_id, leaked_secret = account.leaked
    ran = clikit.irready("contain", "run", leaked_id, "--no-investigate", "--revoke-sessions",
                         "--format", "json", "--config", config, env=env)
    assert ran.exit_code == ExitCode.OK, ran.output
    containment = json.loads(ran.stdout)["containment"]
    pdf = account.tmp / "compliance.pdf"

    made = clikit.irready("report", "compliance", "--output", str(pdf), "--config", config)

    assert made.exit_code == ExitCode.OK, made.output
    text = pdf_text(pdf)
    assert "When a key did leak: containments" in text
    # a line may wrap after a hyphen of the containment's id: the text then reads "- "
    assert (f"1 containment(s) ran. The latest that reached safe ({containment['id']}, "
            f"{containment['started_at'][:10]}) made {leaked_id} inactive in"
            ) in text.replace("- ", "-")
    assert "rotated before it blocked" in text
    assert "earlier sessions revoked" in text
    new_secret = account.held()[1]
    for secret in (leaked_secret, new_secret):
        assert secret not in text
        assert secret.encode() not in pdf.read_bytes()
