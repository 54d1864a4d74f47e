#!/usr/bin/env python3
"""Set the mirror's version and its pin on flask-bind-guard to the crate's
version (Cargo.toml), the `rev:` in its README, and the version the GitHub
Action (action.yml) installs by default.

    python3 pre-commit-mirror/bump.py          # rewrite in place
    python3 pre-commit-mirror/bump.py --check  # exit 1 if out of date

Run it when the crate's version changes, then publish this directory as the
mirror repository and tag it `v<version>`.
"""
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CARGO = HERE.parent / "Cargo.toml"


def crate_version() -> str:
    # The [package] version: the first `version = "..."` line of Cargo.toml.
    match = re.search(r'^version\s*=\s*"([^"]+)"', CARGO.read_text(), re.MULTILINE)
    if not match:
        sys.exit(f"no version in {CARGO}")
    return match.group(1)


def bumped(version: str) -> dict[Path, str]:
    pyproject = HERE / "pyproject.toml"
    readme = HERE / "README.md"
    text = pyproject.read_text()
    text = re.sub(r'^version = "[^"]*"', f'version = "{version}"', text, count=1, flags=re.MULTILINE)
    text = re.sub(r'"flask-bind-guard==[^"]*"', f'"flask-bind-guard=={version}"', text)
    notes = re.sub(r"rev: v[0-9][^\s]*", f"rev: v{version}", readme.read_text())
    action = HERE.parent / "action.yml"
    # The `default:` line right under the `version:` input.
    inputs = re.sub(
        r'(\n  version:\n(?:    [^\n]*\n)*?    default: )"[^"]*"',
        lambda m: f'{m.group(1)}"{version}"',
        action.read_text(),
        count=1,
    )
    script = HERE.parent / "action" / "run.py"
    own = re.sub(r'^OWN_VERSION = "[^"]*"', f'OWN_VERSION = "{version}"', script.read_text(), count=1, flags=re.MULTILINE)
    return {pyproject: text, readme: notes, action: inputs, script: own}


def main() -> None:
    version = crate_version()
    stale = [path for path, text in bumped(version).items() if path.read_text() != text]
    if "--check" in sys.argv[1:]:
        for path in stale:
            print(f"{path} is not at version {version}; run {Path(__file__).name}")
        sys.exit(1 if stale else 0)
    for path, text in bumped(version).items():
        path.write_text(text)
    print(f"mirror at {version}" + (f" (updated {len(stale)} files)" if stale else " (already)"))


if __name__ == "__main__":
    main()
