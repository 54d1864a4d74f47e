//! The rules, one file each; each file's doc comment is the rule's user
//! documentation (`docs/rules/*.md`, also printed by `explain`).

mod fbg001;
mod fbg002;

pub use fbg001::FlaskDevServerAllInterfaces;
pub use fbg002::FlaskDebuggerAllInterfaces;

/// How bad a finding is, on the scale GitHub code scanning uses for
/// security alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub's `security-severity` score: a number in the band of the
    /// level (critical is over 9.0, high 7.0 to 8.9, medium 4.0 to 6.9).
    pub fn score(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }

    /// SARIF `level` (and the GitHub workflow command): high and critical
    /// are errors, medium a warning, low a note.
    pub fn level(self) -> &'static str {
        match self {
            Severity::Low => "note",
            Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }
}

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

    /// The severity unless the configuration says otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::AllInterfaces => Severity::Medium,
            Rule::DebuggerAllInterfaces => Severity::Critical,
        }
    }

    /// A short title (SARIF `shortDescription`, GitHub annotation titles).
    pub fn title(self) -> &'static str {
        match self {
            Rule::AllInterfaces => "Flask development server bound to every network interface",
            Rule::DebuggerAllInterfaces => "Flask debugger exposed on every network interface",
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
