//! Printers. Each writes to any `Write`, so tests pass a buffer.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

pub use human::Human;
