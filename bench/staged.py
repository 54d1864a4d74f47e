#!/usr/bin/env python3
"""Staged-mode benchmark: the pre-commit hook on a large repository.

Builds (once) a repository of 50,000 tracked files in 2,500 directories,
half of them Python, packs it, stages a one-file change, and times in one
run: `git diff --cached --name-only` (the floor: git reading its own index),
flask-bind-guard in staged mode (what the hook runs), and
`ruff check --select S104` on the staged Python files.

    python3 bench/staged.py [--runs 15]
    python3 bench/staged.py --dirs 250   # ~5,000 files: where the hook's
                                          # fixed start shows
    python3 bench/staged.py --repo URL-or-path [--file lib/x.py]
                                          # a real repository (cloned once,
                                          # packed): one line added to --file
                                          # (default: its first .py file)

Each case is timed twice: one staged Python change, and nothing staged. The
generated repository's change adds a finding (the hook prints it); a real
repository's added line (`_bench = 1`) adds none.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("FBG_BENCH_DIR", "/tmp/fbg-bench"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def build_repo(repo: Path, dirs: int) -> None:
    if (repo / ".git" / "bench-complete").exists():
        return
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "gc.auto", "0")
    exts = [".txt", ".json", ".md", ".cfg"]
    for d in range(dirs):
        pkg = repo / f"pkg{d // 50}" / f"sub{d % 50}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        for f in range(19):
            if f % 2 == 0:
                body = f"import os\nfrom pkg{d // 50}.sub{d % 50} import m0\n\n\ndef f{f}():\n    return {f}\n"
                (pkg / f"m{f}.py").write_text(body)
            else:
                (pkg / f"m{f}{exts[f % 4]}").write_text("data\n" * 5)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "gc", "-q")
    (repo / ".git" / "bench-complete").write_text("")


def clone_repo(source: str) -> Path:
    """A packed clone of `source` (a URL or a path), made once."""
    name = source.rstrip("/").split("/")[-1].removesuffix(".git") or "repo"
    repo = WORK / f"real-{name}"
    if not (repo / ".git" / "bench-complete").exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", source, str(repo)], check=True)
        git(repo, "config", "gc.auto", "0")
        git(repo, "gc", "-q")
        (repo / ".git" / "bench-complete").write_text("")
    return repo


def peak_rss_kb(cmd, cwd: Path, shell: bool) -> int | None:
    """Peak RSS of one extra, untimed run, as GNU time reports it (a child
    forked from this script starts from the script's own RSS, so wait4's
    figure is a floor, not the tool's). None without /usr/bin/time."""
    if not Path("/usr/bin/time").exists():
        return None
    full = ["/usr/bin/time", "-f", "%M", *(["sh", "-c", cmd] if shell else cmd)]
    out = subprocess.run(full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    last = out.stderr.strip().splitlines()[-1:] or [""]
    return int(last[0]) if last[0].isdigit() else None


def measure(cmd, cwd: Path, runs: int, shell: bool = False) -> dict:
    times, peak = [], 0
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        if i:
            times.append(time.perf_counter() - start)
            peak = max(peak, usage.ru_maxrss)
    times.sort()
    rss = peak_rss_kb(cmd, cwd, shell)
    peak = rss if rss is not None else peak
    return {"min": times[0], "median": times[len(times) // 2], "peak_mb": peak / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--dirs", type=int, default=2500, help="20 files per directory: 2500 -> 50,000 files")
    ap.add_argument("--repo", help="a real repository to clone (URL or path) instead of the generated one")
    ap.add_argument("--file", help="with --repo: the Python file the staged change adds a line to")
    args = ap.parse_args()
    if args.repo:
        repo = clone_repo(args.repo)
        git(repo, "reset", "-q", "--hard")
        name = args.file or next(p for p in git(repo, "ls-files", "*.py").splitlines() if p)
        target = repo / name
        target.write_bytes(target.read_bytes() + b"\n_bench = 1\n")
    else:
        repo = WORK / ("big-repo" if args.dirs == 2500 else f"repo-{args.dirs}")
        build_repo(repo, args.dirs)
        # Stage a one-file change (the same every run).
        git(repo, "reset", "-q", "--hard")
        target = repo / "pkg3" / "sub7" / "m4.py"
        target.write_text(target.read_text() + "\nfrom flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n")
    git(repo, "add", str(target))

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    fbg = REPO / "target" / "release" / "flask-bind-guard"
    venv = WORK / "venv"
    if not (venv / "bin" / "ruff").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ruff", "bandit"], check=True)
    ruff = venv / "bin" / "ruff"
    tracked = len(git(repo, "ls-files").splitlines())
    staged = target.relative_to(repo)
    print(f"repository: {repo} ({tracked} tracked files), one staged Python file ({staged}), {os.cpu_count()} cores")
    tools = [
        ("git diff --cached --name-only", ["git", "diff", "--cached", "--name-only"], False),
        ("flask-bind-guard (staged mode)", [str(fbg)], False),
        (
            "ruff check --select S104 (staged files)",
            f"git diff --cached --name-only --diff-filter=ACMR -z -- '*.py' | xargs -0 {ruff} check --select S104 --no-cache --exit-zero",
            True,
        ),
    ]
    def table(results):
        floor = results[0][1]["median"]
        print(f"{'command':<42} {'min':>8} {'median':>8} {'peak RSS':>9} {'vs git':>7}")
        for name, r in results:
            print(f"{name:<42} {r['min'] * 1000:>6.1f}ms {r['median'] * 1000:>6.1f}ms {r['peak_mb']:>7.1f}MB {r['median'] / floor:>6.1f}x")

    table([(name, measure(cmd, repo, args.runs, shell)) for name, cmd, shell in tools])
    git(repo, "reset", "-q", "--hard")
    print("\nnothing staged:")
    table([(name, measure(cmd, repo, args.runs, shell)) for name, cmd, shell in tools[:2]])


if __name__ == "__main__":
    main()
