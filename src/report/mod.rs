//! Printers. Each writes to any `Write`, so tests pass a buffer.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

pub use human::Human;

/// A serializer's error as the I/O error under it, so a closed pipe stays a
/// closed pipe (`flask-bind-guard --format json | head` is not an error).
pub(crate) fn io_error(e: serde_json::Error) -> std::io::Error {
    match e.io_error_kind() {
        Some(kind) => std::io::Error::from(kind),
        None => std::io::Error::other(e),
    }
}
