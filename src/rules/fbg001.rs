//! FBG001: the Flask development server bound to every interface.
//! Detection lives in [`crate::analysis::detect`]; this file is the rule's
//! documentation.

pub(super) const DOC: &str = include_str!("../../docs/rules/FBG001.md");

#[doc = include_str!("../../docs/rules/FBG001.md")]
pub struct FlaskDevServerAllInterfaces;
