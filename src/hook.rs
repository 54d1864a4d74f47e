//! `install` / `uninstall`: native git hooks for commits and merges.
//!
//! The hook goes where git looks for hooks (`core.hooksPath`, or the common
//! directory's `hooks/`, which worktrees share). A hook flask-bind-guard did
//! not write is never replaced without `--force`, and then it is kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::exit::{EXIT_CLEAN, EXIT_ERROR};
use crate::git;
use crate::report::human::safe;

/// Marks a hook as ours.
const MARKER: &str = "# Installed by flask-bind-guard";

fn script() -> String {
    // The binary that ran `install`, so GUI git clients without our PATH
    // still find it; the PATH is the fallback if it moved.
    let exe = std::env::current_exe().ok().map(|p| p.display().to_string()).unwrap_or_default();
    let exe = exe.replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n{MARKER}: blocks commits that add a Flask development server\n\
         # bound to every network interface. Remove with `flask-bind-guard uninstall`;\n\
         # bypass once with `git commit --no-verify`.\n\
         FBG='{exe}'\n\
         [ -x \"$FBG\" ] || FBG=flask-bind-guard\n\
         exec \"$FBG\"\n"
    )
}

fn ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.contains(MARKER))
}

/// The hooks directory; `None` (after saying why) outside a repository.
/// `command` is `install` or `uninstall`.
fn locate(command: &str, err: &mut dyn Write) -> Option<PathBuf> {
    match git::open_repo() {
        Ok(repo) => Some(git::hooks_dir(&repo)),
        // Not the audit's advice (give paths): a hook lives in a repository.
        Err(git::GitError::NotARepository(why)) => {
            let purpose = if command == "install" { "commits it should guard" } else { "hook it should remove" };
            let _ = writeln!(
                err,
                "error: `{command}` needs a git repository, and this is not inside one ({}); \
                 run it inside the repository whose {purpose}",
                safe(&why)
            );
            None
        }
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e.to_string()));
            None
        }
    }
}

/// The hooks written: commits, and merges git makes without stopping
/// (`git merge` of a clean branch runs `pre-merge-commit`, not
/// `pre-commit`).
const HOOKS: &[&str] = &["pre-commit", "pre-merge-commit"];

fn backup_name(hook: &str) -> String {
    format!("{hook}.flask-bind-guard-backup")
}

pub fn install(force: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Some(dir) = locate("install", err) else { return EXIT_ERROR };
    let mut code = EXIT_CLEAN;
    for name in HOOKS {
        let hook = dir.join(name);
        let shown = safe(&hook.display().to_string());
        let backup = backup_name(name);
        let result = (|| -> std::io::Result<String> {
            std::fs::create_dir_all(&dir)?;
            let mut action = "installed".to_string();
            if hook.exists() {
                if ours(&hook) {
                    action = "updated".into();
                } else if force {
                    std::fs::copy(&hook, dir.join(&backup))?;
                    action = format!("installed (the previous hook is kept as {backup})");
                } else {
                    return Ok(String::new());
                }
            }
            // Write beside it, then rename: a hook is never half-written.
            let tmp = dir.join(format!(".{name}.flask-bind-guard.tmp"));
            std::fs::write(&tmp, script())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
            }
            std::fs::rename(&tmp, &hook)?;
            Ok(action)
        })();
        match result {
            Ok(action) if action.is_empty() => {
                let _ = writeln!(
                    err,
                    "error: {shown} exists and was not written by flask-bind-guard; left as it is. \
                     Add `flask-bind-guard` to it, or rerun with --force to replace it (it will be kept as {backup})."
                );
                code = EXIT_ERROR;
            }
            Ok(action) => {
                let _ = writeln!(out, "flask-bind-guard: {name} hook {action} at {shown}");
            }
            Err(e) => {
                let _ = writeln!(err, "error: cannot write {shown}: {e}");
                code = EXIT_ERROR;
            }
        }
    }
    code
}

pub fn uninstall(out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Some(dir) = locate("uninstall", err) else { return EXIT_ERROR };
    let mut code = EXIT_CLEAN;
    for name in HOOKS {
        let hook = dir.join(name);
        let shown = safe(&hook.display().to_string());
        if !hook.exists() || !ours(&hook) {
            let _ = writeln!(out, "flask-bind-guard: no {name} hook of ours at {shown}; nothing to do");
            continue;
        }
        let backup = dir.join(backup_name(name));
        let result = if backup.exists() { std::fs::rename(&backup, &hook) } else { std::fs::remove_file(&hook) };
        match result {
            Ok(()) if backup.exists() || hook.exists() => {
                let _ = writeln!(out, "flask-bind-guard: removed; the previous {name} hook is back at {shown}");
            }
            Ok(()) => {
                let _ = writeln!(out, "flask-bind-guard: removed {shown}");
            }
            Err(e) => {
                let _ = writeln!(err, "error: cannot remove {shown}: {e}");
                code = EXIT_ERROR;
            }
        }
    }
    code
}
