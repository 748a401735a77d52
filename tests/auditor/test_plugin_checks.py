"""Third-party checks: a distribution installed on sys.path that declares checks in the
`irready.checks` entry-point group is discovered through the real importlib.metadata
machinery, runs in an audit like a built-in check, and may not reuse an existing id."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import irready

from auditor.config import Config
from auditor.errors import UsageError
from auditor.facts import Facts
from auditor.models import Status
from auditor.registry import ENTRY_POINT_GROUP, discover
from auditor.runner import run_audit

PLUGIN_NAMES = ("irready_team_checks", "irready_copycat", "irready_broken")
PLUGIN_MODULE = '''
"""A team's own readiness check, shipped as its own package."""

from auditor.models import Outcome, Severity, Status
from auditor.registry import check


@check(id="{check_id}", title="The team's break-glass runbook is linked",
       severity=Severity.LOW, remediation="Link the runbook in the wiki.",
       references=("TEAM-1",))
def runbook_linked(facts, config):
    """Responders look for the runbook first."""
    yield Outcome(Status.FAIL, "account", "no runbook link for account " + facts.account_id)
'''


def install_plugin(site: Path, name: str, check_id: str) -> None:
    """Write a module and its .dist-info (METADATA + entry_points.txt) into `site`, as
    pip would install a wheel."""
    site.mkdir(exist_ok=True)
    (site / f"{name}.py").write_text(PLUGIN_MODULE.format(check_id=check_id))
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{ENTRY_POINT_GROUP}]
        runbook = {name}
        """))


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in PLUGIN_NAMES:
        sys.modules.pop(name, None)


def test_a_check_from_another_package_is_discovered_and_run(plugin_site: Path) -> None:
    install_plugin(plugin_site, "irready_team_checks", "team.runbook_linked")

    registry = discover()
    plugin = registry.get("team.runbook_linked")
    run = run_audit(Facts.from_values({}), [plugin], Config())

    assert plugin.origin == "irready_team_checks"
    assert len(registry) == len(discover(plugins=False)) + 1
    [finding] = run.findings
    assert (finding.check_id, finding.status, finding.references, finding.message) == (
        "team.runbook_linked", Status.FAIL, ("TEAM-1",), "no runbook link for account "
        "123456789012")


def test_the_cli_lists_and_selects_a_plugin_check(plugin_site: Path, aws: Any) -> None:
    install_plugin(plugin_site, "irready_team_checks", "team.runbook_linked")

    listed = irready("checks", "--format", "json")
    audited = irready("audit", "--check", "team.runbook_linked", "--no-history",
                                  "--format", "json")

    assert listed.exit_code == 0
    assert "team.runbook_linked" in listed.stdout
    assert audited.exit_code == 1, audited.output
    assert '"check_id": "team.runbook_linked"' in audited.stdout


def test_a_plugin_may_not_reuse_a_built_in_id(plugin_site: Path) -> None:
    install_plugin(plugin_site, "irready_copycat", "iam.console_mfa")

    with pytest.raises(UsageError) as raised:
        discover()
    assert str(raised.value) == ("duplicate check id 'iam.console_mfa': defined in checks.mfa "
                                 "and irready_copycat")

    result = irready("checks")
    assert result.exit_code == 2
    assert result.stderr == ("irready: error: duplicate check id 'iam.console_mfa': defined in "
                             "checks.mfa and irready_copycat\n")
    assert "Traceback" not in result.output


def test_a_broken_plugin_is_one_line(plugin_site: Path) -> None:
    install_plugin(plugin_site, "irready_broken", "team.broken")
    (plugin_site / "irready_broken.py").write_text("import irready_no_such_module\n")

    result = irready("checks")

    assert result.exit_code == 2
    assert result.stderr == (
        "irready: error: cannot load the check plugin 'runbook' (irready_broken) from the "
        "irready.checks entry points: ModuleNotFoundError: No module named "
        "'irready_no_such_module'\n")


def readme_example() -> str:
    """The check shown under "Your own checks" in README.md."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Your own checks", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize(
    ("users", "expected"),
    [pytest.param((), Status.PASS, id="no CI user"),
     pytest.param(("ci-deploy",), Status.FAIL, id="a CI user with a key")],
)
def test_the_readme_example_check_runs(users: tuple[str, ...], expected: Status) -> None:
    """A copied example must reach a verdict: one that yields nothing is an ERROR."""
    from datetime import UTC, datetime

    from auditor.awsfacts.iam import CREDENTIAL_REPORT, CredentialReport, CredentialRow, KeySlot
    from auditor.runner import run_check

    namespace: dict[str, Any] = {"__name__": "acme_checks"}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    rows = tuple(CredentialRow(user=name, arn=f"arn:aws:iam::123456789012:user/{name}",
                               created=None, password_enabled=False, password_last_used=None,
                               mfa_active=False,
                               keys=(KeySlot(1, True, datetime.now(UTC), None),))
                 for name in users)
    facts = Facts.from_values({CREDENTIAL_REPORT: CredentialReport(None, rows)})
    findings = run_check(namespace["no_ci_user_keys"], facts, Config())
    assert [f.status for f in findings] == [expected]
