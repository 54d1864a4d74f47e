//! Audit mode: files and directories as they are on disk.

use std::io::Write;
use std::path::PathBuf;

use super::{Checked, Invocation, config_help};
use crate::exit::EXIT_ERROR;
use crate::scan::{ScanOutcome, scan_paths, start_dir};

/// Check `paths` under the configuration found from the first of them.
pub fn scan(inv: &Invocation, paths: &[PathBuf], err: &mut dyn Write) -> Checked<ScanOutcome> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let opts = match inv.config.on_disk(&start_dir(paths, &cwd), &cwd) {
        Ok(settings) => inv.scan.clone().with_settings(settings),
        Err(e) => {
            // Already terminal-safe, and a TOML error keeps its form.
            let _ = writeln!(err, "error: {e}\nhelp: {}", config_help(inv, false));
            return Err(EXIT_ERROR);
        }
    };
    Ok(scan_paths(paths, &opts))
}
