#!/usr/bin/env python3
"""Audit-mode benchmark: flask-bind-guard against ruff (S104) and bandit
(B104), measured side by side in one run on the same tree.

The tree is every *.py of this machine's Python installation (standard
library and site-packages), copied to a folder whose path has no
"site-packages" in it (ruff and bandit would skip or treat it specially).

    python3 bench/bench.py            # build, set up the tools, measure
    python3 bench/bench.py --runs 10  # more runs per tool (interleaved)
    python3 bench/bench.py --profile dist  # the binary the wheels ship
    python3 bench/bench.py --tree many     # 20,000 small Flask modules that
                                           # each call app.run with literal
                                           # arguments (a monorepo of services)
    python3 bench/bench.py --tree many-parsed  # the same with the host in a
                                               # constant: every file parsed

Prints wall time (min and median of the runs), peak memory (max RSS) and
the ratio of each tool's median (and min) to flask-bind-guard's. The fast
tools run in interleaved rounds, so a machine whose speed drifts during
the run affects them alike.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("FBG_BENCH_DIR", "/tmp/fbg-bench"))


def build_tree(dest: Path) -> tuple[int, int]:
    """Copy every .py of the installation once; returns (files, bytes)."""
    marker = dest / ".complete"
    if not marker.exists():
        shutil.rmtree(dest, ignore_errors=True)
        prefix = Path(sysconfig.get_paths()["stdlib"]).parent.parent
        for root, _dirs, files in os.walk(prefix):
            for name in files:
                if not name.endswith(".py"):
                    continue
                src = Path(root) / name
                rel = str(src.relative_to(prefix)).replace("site-packages", "sitepkgs")
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
        marker.write_text("")
    files = [p for p in dest.rglob("*.py")]
    return len(files), sum(p.stat().st_size for p in files)


def build_many(dest: Path, count: int, start: str) -> tuple[int, int]:
    """A tree where every file calls `.run`: `count` small Flask modules,
    each with thirty handlers and the start `start` (no finding). With
    literal arguments the prefilter settles each file from its bytes; with
    a host named by a constant every file must be parsed and analysed."""
    marker = dest / f".complete-{count}"
    if not marker.exists():
        shutil.rmtree(dest, ignore_errors=True)
        handlers = "\n".join(
            f"def handler_{i}(request):\n    value = request.args.get('k{i}', 'default')\n"
            f"    return {{'result': value, 'index': {i}}}\n"
            for i in range(30)
        )
        for i in range(count):
            d = dest / f"svc{i // 200}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"app_{i}.py").write_text(
                "from flask import Flask\n\napp = Flask(__name__)\n\n"
                f"{handlers}\n\nif __name__ == '__main__':\n    {start}\n"
            )
        marker.write_text("")
    files = [p for p in dest.rglob("*.py")]
    return len(files), sum(p.stat().st_size for p in files)


def tool_venv() -> Path:
    venv = WORK / "venv"
    if not (venv / "bin" / "ruff").exists() or not (venv / "bin" / "bandit").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ruff", "bandit"], check=True)
    return venv / "bin"


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS (KB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def peak_rss_kb(cmd: list[str], cwd: Path) -> int | None:
    """Peak RSS of one extra, untimed run, as GNU time reports it: the
    rusage of a child forked from a small process. (A child forked from
    this script starts from the script's own RSS, so wait4's figure is a
    floor of about 20 MB, not the tool's.) None without /usr/bin/time."""
    if not Path("/usr/bin/time").exists():
        return None
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    last = out.stderr.strip().splitlines()[-1:] or [""]
    return int(last[0]) if last[0].isdigit() else None


def summary(samples: list[tuple[float, int]]) -> dict:
    times = sorted(t for t, _ in samples)
    return {"min": times[0], "median": times[len(times) // 2], "peak_mb": max(m for _, m in samples) / 1024}


def measure_interleaved(cmds: list[list[str]], cwd: Path, runs: int) -> list[dict]:
    """`runs` rounds, each running every command once (after one warm-up
    round): a machine that speeds up or slows down during the benchmark
    then affects every tool alike."""
    samples: list[list[tuple[float, int]]] = [[] for _ in cmds]
    for round_ in range(runs + 1):
        for i, cmd in enumerate(cmds):
            sample = run_once(cmd, cwd)
            if round_ > 0:
                samples[i].append(sample)
    return [summary(s) for s in samples]


def findings(binary: Path, tree: Path, *extra: str) -> list:
    out = subprocess.run([str(binary), "--format", "json", *extra, "."], cwd=tree, capture_output=True, text=True)
    return sorted((f["path"], f["line"], f["column"], f["rule"]) for f in json.loads(out.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", default="release", help="cargo profile of the binary: release (cargo install) or dist (the wheels)")
    ap.add_argument("--bandit-runs", type=int, default=1, help="bandit is slow (minutes); 0 leaves it out")
    ap.add_argument(
        "--tree",
        choices=["stdlib", "many", "many-parsed"],
        default="stdlib",
        help="stdlib: few candidates; many: every file calls app.run(host='127.0.0.1', port=5000) "
        "(settled from the bytes); many-parsed: every file calls app.run(host=HOST, port=PORT) "
        "with module constants (every file parsed and analysed)",
    )
    ap.add_argument("--many-files", type=int, default=20000)
    args = ap.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    if args.tree == "many":
        tree = WORK / "many"
        nfiles, nbytes = build_many(tree, args.many_files, "app.run(host='127.0.0.1', port=5000)")
    elif args.tree == "many-parsed":
        tree = WORK / "many-parsed"
        start = "HOST, PORT = '127.0.0.1', 5000\n    app.run(host=HOST, port=PORT)"
        nfiles, nbytes = build_many(tree, args.many_files, start)
    else:
        tree = WORK / "tree"
        nfiles, nbytes = build_tree(tree)
    bin_dir = tool_venv()
    subprocess.run(["cargo", "build", "--profile", args.profile, "--quiet"], cwd=REPO, check=True)
    fbg = REPO / "target" / args.profile / "flask-bind-guard"

    fast, full = findings(fbg, tree), findings(fbg, tree, "--no-prefilter")
    print(f"tree: {tree} ({nfiles} files, {nbytes / 1e6:.0f} MB), {os.cpu_count()} cores")
    print(f"prefilter exact on this tree: {'yes' if fast == full else 'NO'} ({len(fast)} findings either way)")

    ruff_version = subprocess.run([str(bin_dir / "ruff"), "--version"], capture_output=True, text=True).stdout.strip()
    bandit_version = subprocess.run([str(bin_dir / "bandit"), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    tools = [
        (f"flask-bind-guard ({args.profile})", [str(fbg), "."], args.runs),
        (ruff_version + " --select S104", [str(bin_dir / "ruff"), "check", "--select", "S104", "--no-cache", "--exit-zero", "."], args.runs),
    ]
    if args.bandit_runs > 0:
        tools.append((bandit_version + " -t B104", [str(bin_dir / "bandit"), "-q", "-r", "-t", "B104", "."], args.bandit_runs))
    if shutil.which("rg"):
        tools.append(("rg (reads every byte: the floor)", ["rg", "-l", "--no-ignore", "--no-messages", "0.0.0.0", "."], args.runs))
    fast = [t for t in tools if "bandit" not in t[0]]
    results = list(zip([n for n, _, _ in fast], measure_interleaved([c for _, c, _ in fast], tree, args.runs)))
    for name, cmd, runs in tools:
        if "bandit" in name:
            # Minutes per run: measured on its own, without a warm-up round
            # (the tree is in the page cache by now).
            results.append((name, summary([run_once(cmd, tree) for _ in range(runs)])))
    for name, cmd, _ in fast:
        rss = peak_rss_kb(cmd, tree)
        if rss is not None:
            dict(results)[name]["peak_mb"] = rss / 1024
    for name, r in results:
        print(f"  measured {name}: median {r['median']:.3f}s", file=sys.stderr)
    base = results[0][1]["median"]
    print()
    best = results[0][1]["min"]
    print(f"{'tool':<42} {'min':>8} {'median':>8} {'peak RSS':>9} {'vs fbg (median)':>16} {'(min)':>6}")
    for name, r in results:
        print(
            f"{name:<42} {r['min']:>7.3f}s {r['median']:>7.3f}s {r['peak_mb']:>7.1f}MB"
            f" {r['median'] / base:>15.1f}x {r['min'] / best:>5.1f}x"
        )
    print()
    for name, r in results[1:]:
        if name.startswith("rg"):
            print(f"flask-bind-guard / rg (the floor): {base / r['median']:.2f}x (medians), {best / r['min']:.2f}x (mins)")
        elif "ruff" in name:
            print(f"ruff / flask-bind-guard: {r['median'] / base:.1f}x (medians), {r['min'] / best:.1f}x (mins)")


if __name__ == "__main__":
    main()
