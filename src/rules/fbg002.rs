//! FBG002: FBG001 with the interactive debugger on.
//! Detection lives in [`crate::analysis::detect`]; this file is the rule's
//! documentation.

pub(super) const DOC: &str = include_str!("../../docs/rules/FBG002.md");

#[doc = include_str!("../../docs/rules/FBG002.md")]
pub struct FlaskDebuggerAllInterfaces;
