//! The rules, one file each; each file's doc comment is the rule's user
//! documentation (`docs/rules/*.md`, also printed by `explain`).

mod fbg001;
mod fbg002;

pub use fbg001::FlaskDevServerAllInterfaces;
pub use fbg002::FlaskDebuggerAllInterfaces;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// FBG001
    AllInterfaces,
    /// FBG002
    DebuggerAllInterfaces,
}

impl Rule {
    pub const ALL: [Rule; 2] = [Rule::AllInterfaces, Rule::DebuggerAllInterfaces];

    pub fn code(self) -> &'static str {
        match self {
            Rule::AllInterfaces => "FBG001",
            Rule::DebuggerAllInterfaces => "FBG002",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::AllInterfaces => "flask-dev-server-all-interfaces",
            Rule::DebuggerAllInterfaces => "flask-debugger-all-interfaces",
        }
    }

    /// medium / critical, as GitHub's security-severity scale names them.
    pub fn severity(self) -> &'static str {
        match self {
            Rule::AllInterfaces => "medium",
            Rule::DebuggerAllInterfaces => "critical",
        }
    }

    /// One line: why it matters.
    pub fn why(self) -> &'static str {
        match self {
            Rule::AllInterfaces => {
                "every machine that can route to this port (LAN, VPN, containers) reaches a server built for local development"
            }
            Rule::DebuggerAllInterfaces => {
                "the Werkzeug debugger runs Python sent by anyone who can reach this port: remote code execution"
            }
        }
    }

    /// One line: what to do, for a finding whose host is `host`.
    pub fn help(self, host: &str) -> String {
        let loopback = crate::analysis::loopback_for(host);
        match self {
            Rule::AllInterfaces => format!(
                "bind to loopback (host=\"{loopback}\"); to serve other machines, use a production WSGI server (gunicorn, waitress)"
            ),
            Rule::DebuggerAllInterfaces => format!(
                "bind to loopback (host=\"{loopback}\") and never expose the debugger; serve others with a production WSGI server"
            ),
        }
    }

    /// The full documentation (Markdown).
    pub fn doc(self) -> &'static str {
        match self {
            Rule::AllInterfaces => fbg001::DOC,
            Rule::DebuggerAllInterfaces => fbg002::DOC,
        }
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.code().eq_ignore_ascii_case(code) || r.name() == code)
    }
}
