//! Printers. Each writes to any `Write`, so tests pass a buffer.

pub mod human;
pub mod json;

pub use human::Human;
