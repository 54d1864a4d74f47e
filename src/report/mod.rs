//! Printers. Each writes to any `Write`, so tests pass a buffer.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

pub use human::Human;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: rustc/ruff style, with the code underlined.
    Human,
    /// A JSON array of findings (fields documented in the README).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions workflow commands: inline annotations on pull requests.
    Github,
    /// GitLab Code Quality report (`artifacts:reports:codequality`).
    Gitlab,
}

/// A serializer's error as the I/O error under it, so a closed pipe stays a
/// closed pipe (`flask-bind-guard --format json | head` is not an error).
pub(crate) fn io_error(e: serde_json::Error) -> std::io::Error {
    match e.io_error_kind() {
        Some(kind) => std::io::Error::from(kind),
        None => std::io::Error::other(e),
    }
}
