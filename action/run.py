#!/usr/bin/env python3
"""The GitHub Action's logic (action.yml runs this script; a test runs it
the same way): install the flask-bind-guard wheel into a temporary venv,
run it over the checkout, and hand the result to the workflow.

Inputs come as environment variables (action.yml maps each input):

    FBG_PATHS             files and directories, shell-style quoting ("." by default)
    FBG_ARGS              extra flags, shell-style quoting
    FBG_VERSION           the release to install ("latest": the newest; blank:
                          this action's own, OWN_VERSION)
    FBG_FORMAT            github (annotations) | sarif (a file for code scanning)
    FBG_SARIF_FILE        where the SARIF log goes (relative to the checkout)
    FBG_FAIL_ON_FINDINGS  true | false
    FBG_CHANGED_ONLY      true | false: on a pull request, judge what it brings in

and from the runner: GITHUB_WORKSPACE, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
GITHUB_OUTPUT, RUNNER_TEMP. pip's own variables (PIP_INDEX_URL,
PIP_NO_INDEX, PIP_FIND_LINKS ...) reach pip unchanged.

Outputs (GITHUB_OUTPUT): exit-code (the tool's: 0, 1 findings, 2 error),
findings (how many were reported), sarif-file (with format sarif).
The step fails on an error, and on findings when fail-on-findings is true.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

# The release this action installs when `version` is blank: its own (kept
# equal to the crate's by pre-commit-mirror/bump.py; tests/version.rs checks).
OWN_VERSION = "0.1.0"

EVENTS_WITH_A_PULL_REQUEST = ("pull_request", "pull_request_target")


class Failure(Exception):
    """A problem with the inputs or the environment: the step fails (2)."""


def env(name: str, default: str = "") -> str:
    value = os.environ.get(name, "")
    return value if value.strip() else default


def flag(name: str, default: str) -> bool:
    value = env(name, default).strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise Failure(f"{name[4:].lower().replace('_', '-')}: expected true or false, got {value!r}")


def split(name: str, default: str = "") -> list:
    try:
        return shlex.split(env(name, default))
    except ValueError as e:
        raise Failure(f"{name[4:].lower().replace('_', '-')}: {e}")


def install(version: str, where: Path) -> Path:
    """A venv with flask-bind-guard installed; its executable."""
    if version == "latest":
        requirement = "flask-bind-guard"
    elif re.fullmatch(r"[0-9][0-9A-Za-z.+!_-]*", version):
        requirement = f"flask-bind-guard=={version}"
    else:
        raise Failure(f"version: not a version number: {version!r}")
    venv = where / "venv"
    run([sys.executable, "-m", "venv", str(venv)], "cannot create a virtual environment")
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        f"cannot install {requirement}",
    )
    exe = scripts / ("flask-bind-guard.exe" if os.name == "nt" else "flask-bind-guard")
    if not exe.is_file():
        raise Failure(f"{requirement} installed no flask-bind-guard command")
    return exe


def run(cmd: list, what: str, cwd=None) -> str:
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise Failure(f"{what}:\n{done.stdout}{done.stderr}".rstrip())
    return done.stdout.strip()


def git(workspace: Path, *args: str):
    return subprocess.run(["git", "-C", str(workspace), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pull_request_range(workspace: Path):
    """(base, head) of the pull request this run is for, or None when it is
    not for one. The base is where the branch left its target (the merge
    base), as the pull request's diff shows it."""
    if env("GITHUB_EVENT_NAME") not in EVENTS_WITH_A_PULL_REQUEST:
        return None
    path = env("GITHUB_EVENT_PATH")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
        base = event["pull_request"]["base"]["sha"]
        head = event["pull_request"]["head"]["sha"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Failure(f"changed-only: cannot read the pull request's base and head from {path!r}: {e}")
    for sha in (base, head):
        if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", sha)):
            raise Failure(f"changed-only: the event holds no commit id: {sha!r}")
    missing = [sha for sha in (base, head) if git(workspace, "cat-file", "-e", f"{sha}^{{commit}}").returncode]
    if missing:
        # A shallow checkout (actions/checkout's default): fetch them.
        git(workspace, "fetch", "--no-tags", "--quiet", "origin", *missing)
        if any(git(workspace, "cat-file", "-e", f"{sha}^{{commit}}").returncode for sha in missing):
            raise Failure(
                "changed-only: the pull request's commits are not in the checkout and could not be fetched; "
                "check out with `fetch-depth: 0` (actions/checkout)"
            )
    merge_base = git(workspace, "merge-base", base, head)
    shallow = git(workspace, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    if merge_base.returncode != 0 and shallow:
        # The history between them is cut off (a shallow checkout of the
        # head): fetch it, so that lines the target branch changed since
        # the branch point are not taken for the pull request's.
        git(workspace, "fetch", "--no-tags", "--quiet", "--unshallow", "origin", base, head)
        merge_base = git(workspace, "merge-base", base, head)
    if merge_base.returncode == 0 and merge_base.stdout.strip():
        return merge_base.stdout.strip(), head
    print(f"::warning title=flask-bind-guard::no merge base of {base[:12]} and {head[:12]} "
          "(a shallow checkout?); judging against the base commit. Use `fetch-depth: 0`.")
    return base, head


def set_outputs(values: dict):
    out = env("GITHUB_OUTPUT")
    if not out:
        return
    with open(out, "a", encoding="utf-8") as f:
        for key, value in values.items():
            f.write(f"{key}={value}\n")


ANNOTATION = re.compile(r"^::(error|warning|notice) [^\n]*title=FBG\d{3}")


def main() -> int:
    workspace = Path(env("GITHUB_WORKSPACE", os.getcwd()))
    fmt = env("FBG_FORMAT", "github").strip().lower()
    if fmt not in ("github", "sarif"):
        raise Failure(f"format: expected github or sarif, got {fmt!r}")
    fail_on_findings = flag("FBG_FAIL_ON_FINDINGS", "true")
    changed_only = flag("FBG_CHANGED_ONLY", "false")
    paths = split("FBG_PATHS", ".")
    args = split("FBG_ARGS")
    # A blank input (`version: ''`, an unset `${{ vars.X }}`) is the
    # action's own release, as the input's default is.
    version = env("FBG_VERSION").strip() or OWN_VERSION

    temp = Path(tempfile.mkdtemp(prefix="flask-bind-guard-", dir=env("RUNNER_TEMP") or None))
    exe = install(version, temp)
    print(run([str(exe), "--version"], "the installed command does not run"))

    cmd = [str(exe), "--format", fmt, *args]
    extra_env = {}
    rng = pull_request_range(workspace) if changed_only else None
    if rng and paths == ["."]:
        cmd += ["--from-ref", rng[0], "--to-ref", rng[1]]
    elif rng:
        # Refs from the environment with PATHs: the range, in those PATHs.
        extra_env = {"PRE_COMMIT_FROM_REF": rng[0], "PRE_COMMIT_TO_REF": rng[1]}
        cmd += ["--", *paths]
    else:
        cmd += ["--", *paths]
    if rng:
        print(f"flask-bind-guard: judging what {rng[0][:12]}..{rng[1][:12]} brings in")
    child_env = {k: v for k, v in os.environ.items() if k not in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF")}
    child_env.update(extra_env)
    sys.stdout.flush()
    done = subprocess.run(cmd, cwd=workspace, env=child_env, stdout=subprocess.PIPE)
    code = done.returncode
    output = {}
    if fmt == "sarif":
        sarif = workspace / env("FBG_SARIF_FILE", "flask-bind-guard.sarif")
        sarif.parent.mkdir(parents=True, exist_ok=True)
        sarif.write_bytes(done.stdout)
        try:
            log = json.loads(done.stdout)
            findings = sum(1 for r in log["runs"][0]["results"] if not r.get("suppressions"))
        except (ValueError, KeyError, IndexError, TypeError):
            findings = 0
            code = code if code == 2 else 2
        output["sarif-file"] = str(sarif)
        print(f"flask-bind-guard: {findings} finding(s); SARIF written to {sarif}")
    else:
        text = done.stdout.decode("utf-8", "replace")
        sys.stdout.write(text)
        findings = sum(1 for line in text.splitlines() if ANNOTATION.match(line))
        print(f"flask-bind-guard: {findings} finding(s)")
    output["findings"] = findings
    output["exit-code"] = code
    set_outputs(output)
    if code == 1:
        return 1 if fail_on_findings else 0
    if code != 0:
        print(f"::error title=flask-bind-guard::flask-bind-guard failed (exit status {code})")
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"::error title=flask-bind-guard::{str(e).replace('%', '%25').replace(chr(13), '%0D').replace(chr(10), '%0A')}")
        set_outputs({"exit-code": 2, "findings": 0})
        sys.exit(2)
