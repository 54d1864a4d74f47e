//! Command-line interface: arguments, colour choice, exit codes.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::{Human, human::safe, json};
use crate::rules::Rule;
use crate::scan::{ScanOptions, ScanOutcome, scan_paths};

/// Exit codes: 0 no finding, 1 findings, 2 error.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "flask-bind-guard",
    version,
    about = "Stop Flask development servers bound to every network interface (app.run(host=\"0.0.0.0\")) from being committed.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 no finding, 1 findings, 2 error.\nRules: FBG001 (all interfaces), FBG002 (all interfaces with the debugger on). See `flask-bind-guard explain FBG001`."
)]
pub struct Cli {
    /// Files and directories to audit (directories are walked for *.py,
    /// honouring .gitignore).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to colour the output: auto colours a terminal unless NO_COLOR is
    /// set (CLICOLOR_FORCE forces colour).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Skip files larger than this many bytes (with a note).
    #[arg(long, default_value_t = crate::project::DEFAULT_MAX_FILE_SIZE, value_name = "BYTES")]
    pub max_file_size: u64,

    /// Parse every file instead of only those the byte prefilter keeps
    /// (slower; for checking the prefilter).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,

    /// Print how many files were read and parsed, and the time taken, to stderr.
    #[arg(long, hide = true)]
    pub stats: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the documentation of a rule (FBG001, FBG002).
    Explain {
        /// Rule code or name.
        rule: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Decide on colour: the flag wins; then NO_COLOR (any non-empty value)
/// turns it off; then CLICOLOR_FORCE (non-empty, not "0") turns it on;
/// otherwise colour a terminal only.
pub fn use_color(choice: ColorChoice, is_terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
                true
            } else {
                is_terminal
            }
        }
    }
}

/// Run the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_CLEAN };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // stderr stays unlocked: nothing may hold it while threads work.
    ExitCode::from(run(&cli, &mut io::stdout().lock(), &mut io::stderr()))
}

/// Everything but argument parsing, writing to the given streams.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let Some(Command::Explain { rule }) = &cli.command {
        return match Rule::from_code(rule) {
            Some(r) => {
                let _ = write!(out, "{}", r.doc());
                EXIT_CLEAN
            }
            None => {
                let _ = writeln!(err, "error: unknown rule `{}`; the rules are FBG001 and FBG002", safe(rule));
                EXIT_ERROR
            }
        };
    }
    if cli.paths.is_empty() {
        let _ = writeln!(
            err,
            "error: no PATH given\n\nUsage: flask-bind-guard [OPTIONS] PATH...\n\nFor more information, try '--help'."
        );
        return EXIT_ERROR;
    }
    let opts = ScanOptions { prefilter: !cli.no_prefilter, max_file_size: cli.max_file_size, ..ScanOptions::default() };
    let started = std::time::Instant::now();
    let outcome = scan_paths(&cli.paths, &opts);
    if cli.stats {
        let _ = writeln!(
            err,
            "stats: {} Python files read, {} parsed, {:.3}s",
            outcome.files,
            outcome.parsed,
            started.elapsed().as_secs_f64()
        );
    }
    let color = use_color(cli.color, io::stdout().is_terminal(), |k| std::env::var(k).ok());
    report(cli.format, color, &outcome, out, err)
}

/// Print an outcome and return the exit code.
pub fn report(format: Format, color: bool, outcome: &ScanOutcome, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    for p in &outcome.problems {
        let kind = if p.is_error { "error" } else { "note" };
        let _ = writeln!(err, "{kind}: {}: {}", safe(&p.path.display().to_string()), safe(&p.message));
    }
    let printed = match format {
        Format::Human => Human { color }.print(out, &outcome.reports).and_then(|()| {
            let n = outcome.finding_count();
            if n > 0 {
                let files = outcome.reports.len();
                writeln!(
                    out,
                    "Found {n} finding{} in {files} file{}.",
                    if n == 1 { "" } else { "s" },
                    if files == 1 { "" } else { "s" }
                )
            } else {
                Ok(())
            }
        }),
        Format::Json => json::print(out, &outcome.reports),
    };
    let printed = printed.and_then(|()| out.flush());
    match printed {
        // `flask-bind-guard . | head` is not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            return EXIT_ERROR;
        }
        _ => {}
    }
    if outcome.has_errors() {
        EXIT_ERROR
    } else if outcome.finding_count() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn color_precedence() {
        assert!(use_color(ColorChoice::Always, false, env(&[("NO_COLOR", "1")])));
        assert!(!use_color(ColorChoice::Never, true, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(ColorChoice::Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(use_color(ColorChoice::Auto, true, env(&[("NO_COLOR", "")])));
        assert!(use_color(ColorChoice::Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(ColorChoice::Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!use_color(ColorChoice::Auto, false, env(&[])));
    }
}
