//! Which comment, if any, silences a finding.
//!
//! Ours: `# noqa` or `# noqa: FBG00N` on a line of the call. The peers'
//! (ruff's `S104`, bandit's `B104`): a team that already reviewed the line
//! for those tools should not review it again, so for FBG001 they count on
//! any line of the call and on the line of the host's literal (where those
//! tools report it, e.g. a constant's definition). FBG002 is a worse risk
//! (the debugger runs code for anyone who reaches it): a peer's comment
//! covers it only if it also names their debug check (`S201`, `B201`) or
//! is bare. `peer-suppressions = false` turns the peers' comments off.

use crate::finding::{Finding, Suppression};
use crate::project::Project;
use crate::python::{CodeList, Directives, Module};
use crate::rules::Rule;

/// The comment that silences `f` (a finding of `module`), if any.
pub fn suppression(project: &Project, module: &Module, f: &Finding) -> Option<Suppression> {
    let call_lines: Vec<&Directives> = (f.start.line..=f.end.line).filter_map(|l| module.directives_on(l)).collect();
    let code = f.rule.code();
    for d in &call_lines {
        match &d.noqa {
            Some(CodeList::All) => return Some(Suppression::Own("# noqa".into())),
            Some(list) if list.covers(code) => return Some(Suppression::Own(format!("# noqa: {code}"))),
            _ => {}
        }
    }
    if project.analysis().no_peer_suppressions {
        return None;
    }
    // The literal's line, in whichever module holds it.
    let literal_module;
    let literal_line: Option<&Directives> = match &f.literal {
        Some(loc) if loc.path == module.path => module.directives_on(module.line_of(loc.span.start)),
        Some(loc) => {
            literal_module = project.load(&loc.path).ok();
            literal_module.as_ref().and_then(|lm| lm.directives_on(lm.line_of(loc.span.start)))
        }
        None => None,
    };
    let bind = call_lines.iter().copied().chain(literal_line).find_map(|d| {
        peer_marker(d, "S104", &["B104", "hardcoded_bind_all_interfaces"])
            // A bare `# noqa` on the literal's line silences ruff's S104 there.
            .or_else(|| matches!(d.noqa, Some(CodeList::All)).then(|| "# noqa".to_string()))
    })?;
    match f.rule {
        Rule::AllInterfaces => Some(Suppression::Peer(bind)),
        Rule::DebuggerAllInterfaces => {
            let debug = call_lines.iter().find_map(|d| peer_marker(d, "S201", &["B201", "flask_debug_true"]))?;
            Some(Suppression::Peer(if debug == bind { bind } else { format!("{bind} and {debug}") }))
        }
    }
}

/// The peer directive on this line that covers ruff's `ruff` code or one of
/// bandit's `bandit` names, as it would be written.
fn peer_marker(d: &Directives, ruff: &str, bandit: &[&str]) -> Option<String> {
    if matches!(&d.noqa, Some(CodeList::Codes(_))) && d.noqa.as_ref().is_some_and(|l| l.covers(ruff)) {
        return Some(format!("# noqa: {ruff}"));
    }
    match &d.nosec {
        Some(CodeList::All) => Some("# nosec".into()),
        Some(list) => bandit.iter().find(|b| list.covers(b)).map(|b| format!("# nosec {b}")),
        None => None,
    }
}

/// Comments on the lines of a reported finding that look like
/// suppressions but name nothing flask-bind-guard honours (`# noqa: see
/// ticket`, `# noqa: E501`, `# nosec: reviewed`): they suppress nothing,
/// and the author should hear so. One message per line, naming it.
pub fn ineffective(module: &Module, f: &Finding) -> Vec<(usize, String)> {
    let known = |c: &str| {
        Rule::ALL.iter().any(|r| r.code().eq_ignore_ascii_case(c))
            || ["S104", "S201", "B104", "B201", "hardcoded_bind_all_interfaces", "flask_debug_true"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(c))
    };
    let code = f.rule.code();
    let mut out = Vec::new();
    for line in f.start.line..=f.end.line {
        let Some(d) = module.directives_on(line) else { continue };
        let said = match (&d.noqa, &d.nosec) {
            (Some(CodeList::Invalid), _) => "`# noqa:` is followed by no rule code".to_string(),
            (Some(CodeList::Codes(codes)), _) if !codes.iter().any(|c| known(c)) => {
                format!("`# noqa: {}` names no rule of flask-bind-guard", codes.join(", "))
            }
            (_, Some(CodeList::Invalid)) => "`# nosec:` is followed by no test id".to_string(),
            _ => continue,
        };
        out.push((
            line,
            format!(
                "{}: {said}, so it does not suppress {code}; write `# noqa: {code}` to accept this call",
                f.place_of(&f.path, line)
            ),
        ));
    }
    out
}
