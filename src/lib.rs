//! flask-bind-guard: finds Flask development servers bound to every network
//! interface. The library never prints: it returns findings and errors, and
//! the printers in [`report`] turn them into text.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod deps;
pub mod exit;
pub mod facts_cache;
pub mod file_bytes;
pub mod finding;
pub mod fix;
pub mod frameworks;
pub mod git;
pub mod git_index;
pub mod hook;
pub mod hosts;
pub mod modes;
pub mod notebook;
pub mod par;
pub mod paths;
pub mod prefilter;
pub mod project;
pub mod python;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod staged;
pub mod staged_fix;
pub mod text;
