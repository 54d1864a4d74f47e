//! Deciding what a Python module's server calls bind to.

pub mod detect;
pub mod eval;
pub mod suppress;
pub mod value;

pub use detect::check_module;
pub use suppress::ineffective;
pub use value::{binds_all_interfaces, loopback_for};
