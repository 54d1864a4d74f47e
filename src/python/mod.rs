//! Python source: parsing with tree-sitter into a small owned IR.

pub mod comments;
pub mod ir;
pub mod lower;
mod parts;

pub use ir::*;
pub use lower::parse_module;
