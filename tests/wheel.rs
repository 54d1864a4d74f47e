//! The prebuilt-wheel path, end to end, with real tools from PyPI. Ignored
//! by plain `cargo test`; `cargo test -- --include-ignored` runs them (as
//! `.ci/run` does, after installing maturin, pre-commit, prek and uv), and
//! then a missing tool is a failure, not a skip:
//!
//! - a clean clone of this repository (HEAD) builds a wheel with `maturin
//!   build --release`, and `pip install <clone>` installs the command;
//! - the wheel installs with `--no-index` into a fresh venv and runs;
//! - the pre-commit mirror (`pre-commit-mirror/`, as its own git repository)
//!   installs under real pre-commit and prek from a local wheelhouse
//!   (`PIP_NO_INDEX`/`PIP_FIND_LINKS`, `UV_NO_INDEX`/`UV_FIND_LINKS`) with no
//!   `cargo` or `rustc` on `PATH`, blocks a bad commit and passes a clean one.
//!
//! Install times are printed (`cargo test --test wheel -- --nocapture`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

#[path = "wheel/action.rs"]
mod action;
mod common;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn run(cmd: &mut Command) -> Output {
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"] {
        cmd.env_remove(var);
    }
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    out
}

/// A program on PATH (or in the CI venv); a test that cannot run fails.
fn tool(name: &str) -> PathBuf {
    let venv = Path::new(MANIFEST).join("target/ci-venv/bin").join(name);
    std::iter::once(venv)
        .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).map(|d| d.join(name)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: `pip install maturin pre-commit prek uv`"))
}

fn work() -> PathBuf {
    let dir = Path::new(MANIFEST).join("target/wheel-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Built {
    clone: PathBuf,
    wheelhouse: PathBuf,
    wheel: PathBuf,
}

/// Clone HEAD, build the wheel from the clone, and fill a wheelhouse with it
/// and the build backend the mirror package needs (setuptools). Once per
/// test run.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let maturin = tool("maturin");
        let python = tool("python3");
        let work = work();
        let clone = work.join("clone");
        let _ = std::fs::remove_dir_all(&clone);
        ok(Command::new("git").args(["clone", "-q", "--no-hardlinks", MANIFEST]).arg(&clone));
        let wheelhouse = work.join("wheelhouse");
        let _ = std::fs::remove_dir_all(&wheelhouse);
        let started = Instant::now();
        ok(Command::new(&maturin)
            .args(["build", "--release", "--quiet", "--out"])
            .arg(&wheelhouse)
            .current_dir(&clone)
            .env("CARGO_TARGET_DIR", work.join("target")));
        let wheel = std::fs::read_dir(&wheelhouse)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .expect("maturin wrote no wheel");
        let size = std::fs::metadata(&wheel).unwrap().len();
        eprintln!("wheel {} ({size} bytes) built in {:.1}s", wheel.display(), started.elapsed().as_secs_f64());
        ok(Command::new(&python)
            .args(["-m", "pip", "download", "--quiet", "--only-binary", ":all:", "--dest"])
            .arg(&wheelhouse)
            .arg("setuptools"));
        Built { clone, wheelhouse, wheel }
    })
}

fn venv(dir: &Path) -> PathBuf {
    let python = tool("python3");
    let _ = std::fs::remove_dir_all(dir);
    ok(Command::new(python).args(["-m", "venv"]).arg(dir));
    dir.join("bin")
}

#[test]
#[ignore = "needs maturin (pip install maturin); .ci/run installs it"]
fn pip_installs_the_clone_and_the_wheel_installs_offline() {
    let b = built();
    let work = work();
    let expected = format!("flask-bind-guard {VERSION}\n");

    // `pip install .` from a clean clone (maturin from PyPI builds it).
    let bin = venv(&work.join("venv-source"));
    let started = Instant::now();
    ok(Command::new(bin.join("pip"))
        .args(["install", "--quiet"])
        .arg(&b.clone)
        .env("CARGO_TARGET_DIR", work.join("target")));
    eprintln!("pip install <clean clone>: {:.1}s", started.elapsed().as_secs_f64());
    let out = ok(Command::new(bin.join("flask-bind-guard")).arg("--version"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);

    // The wheel into a fresh venv: no index, no compiler.
    let bin = venv(&work.join("venv-wheel"));
    let started = Instant::now();
    ok(Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--no-index"])
        .arg(&b.wheel)
        .env("PATH", sanitized_path(&work.join("bin-wheel"), &[]))
        .env("CARGO_HOME", "/nonexistent")
        .env("RUSTUP_HOME", "/nonexistent"));
    eprintln!("pip install --no-index <wheel>: {:.2}s", started.elapsed().as_secs_f64());
    let out = ok(Command::new(bin.join("flask-bind-guard")).arg("--version"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

/// A `PATH` with no Rust toolchain on it: a directory of links to the
/// tools the test needs (python3, the hook framework), then the system
/// directories that hold no `cargo`, `rustc` or `rustup` (asserted).
fn sanitized_path(dir: &Path, extra: &[&str]) -> std::ffi::OsString {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for name in ["python3"].iter().chain(extra) {
        let target = tool(name);
        std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    }
    let compilers = ["cargo", "rustc", "rustup"];
    let system = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    let dirs: Vec<PathBuf> = std::iter::once(dir.to_path_buf())
        .chain(system.iter().map(PathBuf::from).filter(|d| !compilers.iter().any(|c| d.join(c).exists())))
        .collect();
    for d in &dirs {
        for c in compilers {
            assert!(!d.join(c).exists(), "{} on the sanitized PATH", d.join(c).display());
        }
    }
    std::env::join_paths(dirs).unwrap()
}

const BAD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
const GOOD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"127.0.0.1\")\n";

fn mirror_hook(framework: &str) {
    let b = built();
    let extra: &[&str] = if framework == "prek" { &["prek", "uv"] } else { &["pre-commit"] };
    let tmp = tempfile::tempdir().unwrap();
    let path = sanitized_path(&tmp.path().join("bin"), extra);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cmd = |dir: &Path, program: &str, args: &[&str]| -> Output {
        let program = if program == "git" { tool("git") } else { tmp.path().join("bin").join(program) };
        run(Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("PATH", &path)
            .env("HOME", &home)
            .env("CARGO_HOME", "/nonexistent")
            .env("RUSTUP_HOME", "/nonexistent")
            .env("PRE_COMMIT_HOME", home.join("pre-commit"))
            .env("PREK_HOME", home.join("prek"))
            .env("UV_CACHE_DIR", home.join("uv-cache"))
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &b.wheelhouse)
            .env("UV_NO_INDEX", "1")
            .env("UV_FIND_LINKS", &b.wheelhouse)
            .env("NO_COLOR", "1"))
    };
    let init = |dir: &Path| {
        std::fs::create_dir_all(dir).unwrap();
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["config", "user.email", "dev@example.com"],
            &["config", "user.name", "Dev"],
            &["config", "commit.gpgsign", "false"],
        ] {
            let out = cmd(dir, "git", args);
            assert!(out.status.success(), "{}", text(&out));
        }
    };

    // The mirror, published as its own repository.
    let mirror = tmp.path().join("mirror");
    init(&mirror);
    for entry in std::fs::read_dir(Path::new(MANIFEST).join("pre-commit-mirror")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), mirror.join(entry.file_name())).unwrap();
    }
    assert!(cmd(&mirror, "git", &["add", "-A"]).status.success());
    assert!(cmd(&mirror, "git", &["commit", "-q", "-m", "mirror"]).status.success());
    let rev = String::from_utf8(cmd(&mirror, "git", &["rev-parse", "HEAD"]).stdout).unwrap();

    let repo = tmp.path().join("repo");
    init(&repo);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: flask-bind-guard\n",
        mirror.display(),
        rev.trim()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    let started = Instant::now();
    let out = cmd(&repo, framework, &["install-hooks"]);
    assert!(out.status.success(), "{framework} install-hooks without a compiler:\n{}", text(&out));
    eprintln!("{framework}: hook environment from the wheel in {:.2}s", started.elapsed().as_secs_f64());
    let out = cmd(&repo, framework, &["install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(cmd(&repo, "git", &["add", ".pre-commit-config.yaml"]).status.success());
    let out = cmd(&repo, "git", &["commit", "-m", "config"]);
    assert!(out.status.success(), "{}", text(&out));

    std::fs::write(repo.join("app.py"), BAD).unwrap();
    assert!(cmd(&repo, "git", &["add", "app.py"]).status.success());
    let out = cmd(&repo, "git", &["commit", "-m", "bad"]);
    assert!(!out.status.success(), "{framework}: the bad commit went through:\n{}", text(&out));
    assert!(text(&out).contains("app.py:3:1: FBG001"), "{}", text(&out));

    std::fs::write(repo.join("app.py"), GOOD).unwrap();
    assert!(cmd(&repo, "git", &["add", "app.py"]).status.success());
    let out = cmd(&repo, "git", &["commit", "-m", "good"]);
    assert!(out.status.success(), "{framework}: {}", text(&out));
}

#[test]
#[ignore = "needs maturin and pre-commit (pip install maturin pre-commit); .ci/run installs them"]
fn pre_commit_mirror_installs_the_wheel() {
    mirror_hook("pre-commit");
}

#[test]
#[ignore = "needs maturin, prek and uv (pip install maturin prek uv); .ci/run installs them"]
fn prek_mirror_installs_the_wheel() {
    mirror_hook("prek");
}
