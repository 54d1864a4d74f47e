//! Where the host and debug values come from, end to end: each shape is
//! audited on disk and committed through the installed hook in a real
//! repository, next to the look-alike that must pass (a loopback default, a
//! call that passes loopback, a key set to loopback, an unknowable config,
//! an instance overridden to loopback).

mod common;
use common::Case;

const CASES: &[Case] = &[
    Case {
        name: "argparse option default",
        files: &[(
            "app.py",
            "import argparse\n\nfrom flask import Flask\n\napp = Flask(__name__)\nparser = argparse.ArgumentParser()\nparser.add_argument(\"--host\", default=\"0.0.0.0\")\nparser.add_argument(\"--debug\", action=\"store_true\")\nargs = parser.parse_args()\napp.run(host=args.host, debug=args.debug)\n",
        )],
        findings: &["app.py:10:1: FBG001"],
        lookalike: &[(
            "app.py",
            "import argparse\n\nfrom flask import Flask\n\napp = Flask(__name__)\nparser = argparse.ArgumentParser()\nparser.add_argument(\"--host\", default=\"127.0.0.1\")\nargs = parser.parse_args()\napp.run(host=args.host)\n",
        )],
    },
    Case {
        name: "click option defaults, the debugger on unless --no-debug",
        files: &[(
            "cli.py",
            "import click\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@click.command()\n@click.option(\"--host\", default=\"0.0.0.0\")\n@click.option(\"--debug/--no-debug\", default=True)\ndef main(host, debug):\n    app.run(host=host, debug=debug)\n",
        )],
        findings: &["cli.py:11:5: FBG002"],
        lookalike: &[(
            "cli.py",
            "import click\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@click.command()\n@click.option(\"--host\", required=True)\ndef main(host):\n    app.run(host=host)\n",
        )],
    },
    Case {
        name: "a parameter default, and one stored on self by __init__",
        files: &[(
            "server.py",
            "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef run_server(host=\"0.0.0.0\"):\n    app.run(host=host)\n\n\nclass Server:\n    def __init__(self, host=\"::\"):\n        self.host = host\n        self.app = Flask(\"s\")\n\n    def start(self):\n        self.app.run(host=self.host)\n\n\nServer().start()\n",
        )],
        findings: &["server.py:7:5: FBG001", "server.py:16:9: FBG001"],
        lookalike: &[(
            "server.py",
            "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef run_server(host=\"0.0.0.0\"):\n    app.run(host=host)\n\n\nclass Server:\n    def __init__(self, host=\"::\"):\n        self.host = host\n        self.app = Flask(\"s\")\n\n    def start(self):\n        self.app.run(host=self.host)\n\n\nrun_server(\"127.0.0.1\")\nServer(host=\"::1\").start()\n",
        )],
    },
    Case {
        name: "a config dict, a mapping loaded from a file, a dict updated before the call",
        files: &[(
            "app.py",
            "import json\n\nfrom flask import Flask\n\napp = Flask(__name__)\nCONFIG = {\"host\": \"0.0.0.0\"}\nloaded = json.load(open(\"c.json\"))\nopts = {\"host\": \"127.0.0.1\"}\nopts[\"host\"] = \"::\"\napp.run(host=CONFIG[\"host\"])\napp.run(host=loaded.get(\"host\", \"0.0.0.0\"))\napp.run(**opts)\n",
        )],
        findings: &["app.py:10:1: FBG001", "app.py:11:1: FBG001", "app.py:12:1: FBG001"],
        lookalike: &[(
            "app.py",
            "import json\n\nfrom flask import Flask\n\napp = Flask(__name__)\nCONFIG = {\"host\": \"127.0.0.1\"}\nloaded = json.load(open(\"c.json\"))\nopts = {\"host\": \"0.0.0.0\"}\nopts[\"host\"] = \"127.0.0.1\"\napp.run(host=CONFIG[\"host\"])\napp.run(host=loaded[\"host\"])\napp.run(**opts)\n",
        )],
    },
    Case {
        name: "Flask's configuration from a project class",
        files: &[
            ("config.py", "class Config:\n    HOST = \"0.0.0.0\"\n    DEBUG = True\n"),
            (
                "app.py",
                "from flask import Flask\n\nfrom config import Config\n\napp = Flask(__name__)\napp.config.from_object(Config)\napp.run(host=app.config[\"HOST\"])\n",
            ),
        ],
        findings: &["app.py:7:1: FBG002"],
        lookalike: &[(
            "app.py",
            "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_envvar(\"SETTINGS\")\napp.run(host=app.config[\"HOST\"])\n",
        )],
    },
    Case {
        name: "a dataclass default, and an instance overridden after creation",
        files: &[(
            "app.py",
            "from dataclasses import dataclass\n\nfrom flask import Flask\n\n\n@dataclass\nclass Settings:\n    host: str = \"127.0.0.1\"\n\n\napp = Flask(__name__)\ns = Settings(host=\"0.0.0.0\")\napp.run(host=s.host)\nt = Settings()\nt.host = \"0.0.0.0\"\napp.run(host=t.host)\n",
        )],
        findings: &["app.py:13:1: FBG001", "app.py:16:1: FBG001"],
        lookalike: &[(
            "app.py",
            "from dataclasses import dataclass\n\nfrom flask import Flask\n\n\n@dataclass\nclass Settings:\n    host: str = \"0.0.0.0\"\n\n\napp = Flask(__name__)\ns = Settings(host=\"127.0.0.1\")\napp.run(host=s.host)\nt = Settings()\nt.host = \"127.0.0.1\"\napp.run(host=t.host)\n",
        )],
    },
    Case {
        name: "unpacked and local hosts, a branch that binds every interface",
        files: &[(
            "main.py",
            "import sys\n\nfrom flask import Flask\n\napp = Flask(__name__)\nHOST, PORT = \"0.0.0.0\", 80\n\n\ndef main():\n    host = \"127.0.0.1\"\n    if \"--public\" in sys.argv:\n        host = \"0.0.0.0\"\n    app.run(host=host)\n\n\napp.run(host=HOST, port=PORT)\n",
        )],
        findings: &["main.py:13:5: FBG001", "main.py:16:1: FBG001"],
        lookalike: &[(
            "main.py",
            "import sys\n\nfrom flask import Flask\n\napp = Flask(__name__)\nHOST, PORT = \"127.0.0.1\", 80\n\n\ndef main():\n    host = \"0.0.0.0\"\n    host = \"127.0.0.1\"\n    app.run(host=host)\n\n\napp.run(host=HOST, port=PORT)\n",
        )],
    },
];

#[test]
fn audit_reports_every_source_and_not_its_lookalike() {
    common::audit_cases(CASES);
}

#[test]
fn the_hook_blocks_every_source_and_passes_its_lookalike() {
    common::hook_cases(CASES);
}
