"""The GitHub Actions workflows: valid for the forge (linted here, since they cannot run here) and doing what the README says."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINT = [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.github-workflows"]


def test_workflows_pass_the_schema_linter():
    assert {p.name for p in WORKFLOWS} == {"book.yml", "test.yml"}
    proc = subprocess.run(LINT + [str(p) for p in WORKFLOWS], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("broken", [
    "name: x\non:\n  pullrequest:\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n",
    "name: x\non: push\njobs:\n  t:\n    steps:\n      - run: echo\n        uses: actions/checkout@v4\n",
])
def test_the_linter_rejects_a_broken_workflow(tmp_path, broken):
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    assert subprocess.run(LINT + [str(path)], capture_output=True).returncode != 0


def _load(name):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    return workflow, workflow[True]  # YAML 1.1 reads the key "on" as True


def test_pull_requests_run_the_quick_test_suite():
    workflow, triggers = _load("test.yml")
    assert "pull_request" in triggers
    steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in steps)
    assert workflow["jobs"]["test"]["timeout-minutes"] <= 90


def test_the_book_is_built_in_the_full_profile_on_a_gpu_and_deployed_to_pages():
    workflow, triggers = _load("book.yml")
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert "gpu" in build["runs-on"] and build["env"]["CNNCOURSE_PROFILE"] == "full"
    assert any(step.get("run") == "make book" for step in build["steps"])
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") and step["with"]["path"] == "_build/html"
               for step in build["steps"])
    assert deploy["needs"] == "build" and deploy["permissions"]["pages"] == "write"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in deploy["steps"])
