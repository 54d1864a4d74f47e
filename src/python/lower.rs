//! tree-sitter concrete syntax tree -> the owned [`ir`](super::ir).
//!
//! tree-sitter recovers from syntax errors, so a half-typed file still yields
//! the statements around the error. Recursion is bounded by [`MAX_DEPTH`]: a
//! pathological file (thousands of nested brackets) loses detail, never the
//! stack.

use std::cell::RefCell;
use std::path::PathBuf;

use tree_sitter::{Node, Parser, Tree};

use super::ir::*;
use crate::source::{LineIndex, SourceText};

const MAX_DEPTH: usize = 150;

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new({
        let mut p = Parser::new();
        p.set_language(&tree_sitter_python::LANGUAGE.into())
            .expect("the bundled tree-sitter-python grammar matches the tree-sitter version");
        p
    });
}

/// Parse and lower one module.
pub fn parse_module(path: PathBuf, source: SourceText) -> Module {
    let tree = PARSER.with(|p| p.borrow_mut().parse(source.text.as_bytes(), None));
    let lines = LineIndex::new(&source.text);
    let mut module = Module {
        path,
        lines,
        scopes: Vec::new(),
        run_calls: Vec::new(),
        starters: Vec::new(),
        suppressions: Vec::new(),
        has_syntax_error: tree.as_ref().is_none_or(|t| t.root_node().has_error()),
        source,
    };
    let Some(tree) = tree else {
        module.scopes.push(empty_scope(ScopeKind::Module, "<module>", None, 0..0));
        return module;
    };
    let mut lower = Lower { src: module.source.text.as_bytes(), scopes: Vec::new() };
    lower.module(&tree);
    let Lower { scopes, .. } = lower;
    let starters = starter_names(&scopes);
    let (run_calls, suppressions) =
        collect_calls_and_comments(&tree, module.source.text.as_bytes(), &scopes, &starters, &module.lines);
    module.scopes = scopes;
    module.run_calls = run_calls;
    module.starters = starters;
    module.suppressions = suppressions;
    module
}

fn empty_scope(kind: ScopeKind, name: &str, parent: Option<ScopeId>, span: Span) -> Scope {
    Scope {
        kind,
        name: name.to_string(),
        parent,
        body_start: span.start,
        span,
        body: Vec::new(),
        params: Vec::new(),
        bases: Vec::new(),
        decorators: Vec::new(),
        decorator_exprs: Vec::new(),
        fields: Vec::new(),
        globals: Vec::new(),
    }
}

struct Lower<'s> {
    src: &'s [u8],
    scopes: Vec<Scope>,
}

fn span(n: Node) -> Span {
    n.start_byte()..n.end_byte()
}

impl<'s> Lower<'s> {
    fn text(&self, n: Node) -> &'s str {
        n.utf8_text(self.src).unwrap_or("")
    }

    fn module(&mut self, tree: &Tree) {
        let root = tree.root_node();
        self.scopes.push(empty_scope(ScopeKind::Module, "<module>", None, span(root)));
        let body = self.block(root, 0, 0);
        self.scopes[0].body = body;
    }

    /// The statements directly inside `node` (a module or a block).
    fn block(&mut self, node: Node, scope: ScopeId, depth: usize) -> Vec<Stmt> {
        let mut out = Vec::new();
        if depth > MAX_DEPTH {
            return out;
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.stmt(child, scope, depth + 1, &mut out);
        }
        out
    }

    fn stmt(&mut self, n: Node, scope: ScopeId, depth: usize, out: &mut Vec<Stmt>) {
        match n.kind() {
            "expression_statement" => {
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    match child.kind() {
                        "assignment" => self.assignment(child, depth, out),
                        "augmented_assignment" => {
                            if let Some(left) = child.child_by_field_name("left") {
                                self.unknown_binding(left, span(child), out);
                            }
                        }
                        "call" => {
                            let call = self.expr(child, depth);
                            out.push(Stmt::Call { call, span: span(n) });
                        }
                        _ => {}
                    }
                }
            }
            "import_statement" => self.import(n, out),
            "import_from_statement" => self.import_from(n, out),
            "function_definition" | "class_definition" => self.def(n, n, scope, depth, out),
            "decorated_definition" => {
                if let Some(def) = n.child_by_field_name("definition") {
                    self.def(def, n, scope, depth, out);
                }
            }
            "if_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.child_by_field_name("consequence") {
                    branches.push((span(b), self.block(b, scope, depth)));
                }
                let mut cursor = n.walk();
                let mut exhaustive = false;
                for alt in n.children_by_field_name("alternative", &mut cursor) {
                    exhaustive |= alt.kind() == "else_clause";
                    let body = alt.child_by_field_name("consequence").or_else(|| alt.child_by_field_name("body"));
                    if let Some(b) = body {
                        branches.push((span(alt), self.block(b, scope, depth)));
                    }
                }
                out.push(Stmt::Block { branches, always_runs: false, exhaustive, choice: true, span: span(n) });
            }
            "for_statement" | "while_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.child_by_field_name("body") {
                    let mut body = Vec::new();
                    if let Some(left) = n.child_by_field_name("left") {
                        self.unknown_binding(left, span(left), &mut body);
                    }
                    body.extend(self.block(b, scope, depth));
                    branches.push((span(b), body));
                }
                if let Some(alt) = n.child_by_field_name("alternative")
                    && let Some(b) = alt.child_by_field_name("body")
                {
                    branches.push((span(alt), self.block(b, scope, depth)));
                }
                out.push(Stmt::Block { branches, always_runs: false, exhaustive: false, choice: false, span: span(n) });
            }
            "try_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.child_by_field_name("body") {
                    branches.push((span(b), self.block(b, scope, depth)));
                }
                // Names the `try` body imports: an `except ImportError:` that
                // rebinds them (`Flask = None`) is the fallback for when the
                // import fails; the analysis follows the path where it works.
                let imported: Vec<String> = branches
                    .first()
                    .map(|(_, body): &(Span, Vec<Stmt>)| {
                        body.iter()
                            .filter_map(|st| match st {
                                Stmt::Import { bindings, .. } => Some(bindings.iter().map(|(n, _)| n.clone())),
                                _ => None,
                            })
                            .flatten()
                            .collect()
                    })
                    .unwrap_or_default();
                let mut cursor = n.walk();
                for clause in n.named_children(&mut cursor) {
                    let mut body = Vec::new();
                    match clause.kind() {
                        "except_clause" | "except_group_clause" => {
                            if let Some(alias) = clause.child_by_field_name("alias") {
                                self.unknown_binding(alias, span(alias), &mut body);
                            }
                            let mut catches_import_error = true;
                            let mut c2 = clause.walk();
                            for part in clause.named_children(&mut c2) {
                                if part.kind() == "as_pattern"
                                    && let Some(alias) = part.child_by_field_name("alias")
                                {
                                    self.unknown_binding(alias, span(alias), &mut body);
                                }
                                if part.kind() == "block" {
                                    body.extend(self.block(part, scope, depth));
                                } else if part.kind() != "comment" {
                                    let caught = self.text(part);
                                    catches_import_error = ["ImportError", "ModuleNotFoundError", "Exception"]
                                        .iter()
                                        .any(|e| caught.contains(e));
                                }
                            }
                            if catches_import_error && !imported.is_empty() {
                                body.retain(|st| match st {
                                    Stmt::Assign { targets, .. } => {
                                        !targets.iter().all(|t| matches!(t, Target::Name(n) if imported.contains(n)))
                                    }
                                    _ => true,
                                });
                            }
                        }
                        "else_clause" => {
                            if let Some(b) = clause.child_by_field_name("body") {
                                body.extend(self.block(b, scope, depth));
                            }
                        }
                        "finally_clause" => {
                            let mut c2 = clause.walk();
                            for part in clause.named_children(&mut c2) {
                                if part.kind() == "block" {
                                    body.extend(self.block(part, scope, depth));
                                }
                            }
                        }
                        _ => continue,
                    }
                    branches.push((span(clause), body));
                }
                // The body or a handler runs (else/finally branches make it
                // more than a choice of one).
                let mut c3 = n.walk();
                let kinds: Vec<&str> = n.named_children(&mut c3).map(|c| c.kind()).collect();
                let exhaustive = kinds.iter().any(|k| k.starts_with("except"))
                    && !kinds.iter().any(|k| matches!(*k, "else_clause" | "finally_clause"));
                out.push(Stmt::Block { branches, always_runs: false, exhaustive, choice: false, span: span(n) });
            }
            "with_statement" => {
                let mut body = Vec::new();
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if child.kind() == "with_clause" {
                        let mut c2 = child.walk();
                        for item in child.named_children(&mut c2) {
                            if let Some(v) = item.child_by_field_name("value")
                                && v.kind() == "as_pattern"
                                && let Some(alias) = v.child_by_field_name("alias")
                            {
                                self.unknown_binding(alias, span(item), &mut body);
                            }
                        }
                    }
                }
                if let Some(b) = n.child_by_field_name("body") {
                    body.extend(self.block(b, scope, depth));
                }
                let sp = span(n);
                out.push(Stmt::Block {
                    branches: vec![(sp.clone(), body)],
                    always_runs: true,
                    exhaustive: true,
                    choice: false,
                    span: sp,
                });
            }
            "match_statement" => {
                let mut branches = Vec::new();
                let mut exhaustive = false;
                if let Some(body) = n.child_by_field_name("body") {
                    let mut cursor = body.walk();
                    for case in body.named_children(&mut cursor) {
                        // `case _:` (or a bare capture, `case other:`) without a
                        // guard matches whatever the others do not.
                        let mut c2 = case.walk();
                        let irrefutable = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
                        let wildcard = case.child_by_field_name("guard").is_none()
                            && case
                                .named_children(&mut c2)
                                .any(|p| p.kind() == "case_pattern" && irrefutable(self.text(p).trim()));
                        exhaustive |= wildcard;
                        if let Some(b) = case.child_by_field_name("consequence") {
                            branches.push((span(case), self.block(b, scope, depth)));
                        }
                    }
                }
                out.push(Stmt::Block { branches, always_runs: false, exhaustive, choice: true, span: span(n) });
            }
            "global_statement" => {
                let mut cursor = n.walk();
                let names: Vec<String> = n
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "identifier")
                    .map(|c| self.text(c).to_string())
                    .collect();
                self.scopes[scope].globals.extend(names);
            }
            "raise_statement" => out.push(Stmt::Raise { span: span(n) }),
            "return_statement" => {
                let mut cursor = n.walk();
                let value = n.named_children(&mut cursor).next().map(|v| self.expr(v, depth));
                out.push(Stmt::Return { value, span: span(n) });
            }
            // Recovery: statements tree-sitter could not place still count.
            "ERROR" | "block" => {
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if depth < MAX_DEPTH {
                        self.stmt(child, scope, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
    }

    fn assignment(&mut self, n: Node, depth: usize, out: &mut Vec<Stmt>) {
        // `a = b = value` nests: assignment(left=a, right=assignment(left=b, right=value)).
        let mut targets = Vec::new();
        let mut unpacked = Vec::new();
        let mut node = n;
        let mut annotation = None;
        let value = loop {
            if let Some(left) = node.child_by_field_name("left") {
                match self.target(left, depth) {
                    Some(t) => targets.push(t),
                    None => unpacked.push(left),
                }
            }
            if let Some(ty) = node.child_by_field_name("type") {
                annotation = ty.named_child(0).map(|t| self.expr(t, depth));
            }
            match node.child_by_field_name("right") {
                Some(r) if r.kind() == "assignment" => node = r,
                Some(r) if matches!(r.kind(), "pattern_list" | "yield" | "augmented_assignment") => {
                    break None;
                }
                Some(r) => break Some(self.expr(r, depth)),
                None => break None,
            }
        };
        let sp = span(n);
        for left in unpacked {
            self.unknown_binding(left, sp.clone(), out);
        }
        if !targets.is_empty() {
            // A bare annotation (`x: int`) binds nothing.
            if value.is_none() && annotation.is_some() && n.child_by_field_name("right").is_none() {
                return;
            }
            out.push(Stmt::Assign { targets, value, annotation, span: sp });
        }
    }

    /// A simple assignment target; `None` for unpacking patterns.
    fn target(&mut self, n: Node, depth: usize) -> Option<Target> {
        match n.kind() {
            "identifier" => Some(Target::Name(self.text(n).to_string())),
            "attribute" => {
                let obj = n.child_by_field_name("object")?;
                let attr = n.child_by_field_name("attribute")?;
                Some(Target::Attr(self.expr(obj, depth), self.text(attr).to_string()))
            }
            "subscript" => {
                let value = n.child_by_field_name("value")?;
                let index = n.child_by_field_name("subscript")?;
                Some(Target::Subscript(self.expr(value, depth), self.expr(index, depth)))
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" if depth < MAX_DEPTH => {
                let mut cursor = n.walk();
                let items: Vec<Node> = n.named_children(&mut cursor).filter(|c| c.kind() != "comment").collect();
                let items = items.into_iter().map(|c| self.target(c, depth + 1)).collect::<Option<Vec<_>>>()?;
                // At most one starred target, as Python requires.
                (items.iter().filter(|t| matches!(t, Target::Starred(_))).count() <= 1).then_some(Target::Tuple(items))
            }
            "list_splat_pattern" => {
                let inner = n.named_child(0)?;
                Some(Target::Starred(Box::new(self.target(inner, depth + 1)?)))
            }
            _ => None,
        }
    }

    /// Every name bound by a pattern, with an unknowable value.
    fn unknown_binding(&mut self, pattern: Node, sp: Span, out: &mut Vec<Stmt>) {
        let mut names = Vec::new();
        collect_identifiers(pattern, self.src, &mut names, 0);
        if !names.is_empty() {
            let targets = names.into_iter().map(Target::Name).collect();
            out.push(Stmt::Assign { targets, value: None, annotation: None, span: sp });
        }
    }

    fn import(&mut self, n: Node, out: &mut Vec<Stmt>) {
        let mut bindings = Vec::new();
        let mut cursor = n.walk();
        for name in n.children_by_field_name("name", &mut cursor) {
            match name.kind() {
                "dotted_name" => {
                    let full = self.text(name);
                    let (first, rest) = full.split_once('.').unwrap_or((full, ""));
                    bindings.push((
                        first.to_string(),
                        ImportRef { level: 0, module: first.to_string(), name: None, submodules: rest.to_string() },
                    ));
                }
                "aliased_import" => {
                    let (Some(module), Some(alias)) =
                        (name.child_by_field_name("name"), name.child_by_field_name("alias"))
                    else {
                        continue;
                    };
                    bindings.push((
                        self.text(alias).to_string(),
                        ImportRef {
                            level: 0,
                            module: compact(self.text(module)),
                            name: None,
                            submodules: String::new(),
                        },
                    ));
                }
                _ => {}
            }
        }
        out.push(Stmt::Import { bindings, span: span(n) });
    }

    fn import_from(&mut self, n: Node, out: &mut Vec<Stmt>) {
        let Some(module_node) = n.child_by_field_name("module_name") else {
            return;
        };
        let (level, module) = match module_node.kind() {
            "relative_import" => {
                let text = compact(self.text(module_node));
                let level = text.chars().take_while(|&c| c == '.').count() as u32;
                (level, text.trim_start_matches('.').to_string())
            }
            _ => (0, compact(self.text(module_node))),
        };
        let mut cursor = n.walk();
        if n.named_children(&mut cursor).any(|c| c.kind() == "wildcard_import") {
            out.push(Stmt::StarImport { level, module, span: span(n) });
            return;
        }
        let mut bindings = Vec::new();
        let mut cursor = n.walk();
        for name in n.children_by_field_name("name", &mut cursor) {
            let (imported, bound) = match name.kind() {
                "dotted_name" => (self.text(name), self.text(name)),
                "aliased_import" => match (name.child_by_field_name("name"), name.child_by_field_name("alias")) {
                    (Some(a), Some(b)) => (self.text(a), self.text(b)),
                    _ => continue,
                },
                _ => continue,
            };
            bindings.push((
                bound.to_string(),
                ImportRef {
                    level,
                    module: module.clone(),
                    name: Some(imported.to_string()),
                    submodules: String::new(),
                },
            ));
        }
        out.push(Stmt::Import { bindings, span: span(n) });
    }

    /// `def` / `class` (possibly decorated: `outer` is the decorated node).
    fn def(&mut self, def: Node, outer: Node, parent: ScopeId, depth: usize, out: &mut Vec<Stmt>) {
        let Some(name_node) = def.child_by_field_name("name") else {
            return;
        };
        let name = self.text(name_node).to_string();
        let kind = if def.kind() == "class_definition" { ScopeKind::Class } else { ScopeKind::Function };
        let id = self.scopes.len();
        let mut scope = empty_scope(kind, &name, Some(parent), span(outer));
        let body = def.child_by_field_name("body");
        scope.body_start = body.map_or(def.end_byte(), |b| b.start_byte());
        let mut cursor = outer.walk();
        for dec in outer.named_children(&mut cursor).filter(|c| c.kind() == "decorator") {
            scope.decorators.push(self.text(dec).trim_start_matches('@').trim().to_string());
            if let Some(e) = dec.named_child(0).filter(|e| e.kind() != "comment") {
                let e = self.expr(e, depth);
                scope.decorator_exprs.push(e);
            }
        }
        if let Some(params) = def.child_by_field_name("parameters") {
            scope.params = self.params(params, depth);
        }
        if let Some(supers) = def.child_by_field_name("superclasses") {
            let mut c = supers.walk();
            for base in supers.named_children(&mut c) {
                if base.kind() != "keyword_argument" {
                    scope.bases.push(self.expr(base, depth));
                }
            }
        }
        if kind == ScopeKind::Class
            && let Some(b) = body
        {
            let mut c = b.walk();
            for st in b.named_children(&mut c).filter(|n| n.kind() == "expression_statement") {
                if let Some(a) =
                    st.named_child(0).filter(|a| a.kind() == "assignment" && a.child_by_field_name("type").is_some())
                    && let Some(left) = a.child_by_field_name("left").filter(|l| l.kind() == "identifier")
                {
                    scope.fields.push(self.text(left).to_string());
                }
            }
        }
        self.scopes.push(scope);
        if let Some(b) = body {
            let stmts = self.block(b, id, depth);
            self.scopes[id].body = stmts;
        }
        out.push(Stmt::Def { name, scope: id, span: span(outer) });
    }

    fn params(&mut self, params: Node, depth: usize) -> Vec<Param> {
        let mut out = Vec::new();
        let mut keyword_only = false;
        let mut cursor = params.walk();
        for p in params.named_children(&mut cursor) {
            let (name, annotation) = match p.kind() {
                "identifier" => (Some(p), None),
                "typed_parameter" => {
                    (p.named_child(0).filter(|c| c.kind() == "identifier"), p.child_by_field_name("type"))
                }
                "default_parameter" => (p.child_by_field_name("name"), None),
                "typed_default_parameter" => (p.child_by_field_name("name"), p.child_by_field_name("type")),
                "list_splat_pattern" | "dictionary_splat_pattern" => (p.named_child(0), None),
                "keyword_separator" => {
                    keyword_only = true;
                    (None, None)
                }
                _ => (None, None),
            };
            // `*args: int` is a typed_parameter holding a list_splat_pattern.
            let splat = matches!(p.kind(), "list_splat_pattern" | "dictionary_splat_pattern")
                || p.named_child(0)
                    .is_some_and(|c| matches!(c.kind(), "list_splat_pattern" | "dictionary_splat_pattern"));
            let name = name.or_else(|| if splat { p.named_child(0).and_then(|c| c.named_child(0)) } else { None });
            if let Some(name) = name.filter(|n| n.kind() == "identifier") {
                out.push(Param {
                    name: self.text(name).to_string(),
                    annotation: annotation.and_then(|t| t.named_child(0)).map(|t| self.expr(t, depth)),
                    default: p.child_by_field_name("value").map(|v| self.expr(v, depth)),
                    splat,
                    keyword_only,
                    span: span(p),
                });
            }
            if splat {
                keyword_only = true;
            }
        }
        out
    }

    fn expr(&mut self, n: Node, depth: usize) -> Expr {
        let sp = span(n);
        if depth > MAX_DEPTH {
            return Expr::Other(sp);
        }
        let depth = depth + 1;
        match n.kind() {
            "identifier" => Expr::Name(self.text(n).to_string(), sp),
            "attribute" => match (n.child_by_field_name("object"), n.child_by_field_name("attribute")) {
                (Some(o), Some(a)) => Expr::Attr(Box::new(self.expr(o, depth)), self.text(a).to_string(), sp),
                _ => Expr::Other(sp),
            },
            "call" => {
                let Some(func) = n.child_by_field_name("function") else {
                    return Expr::Other(sp);
                };
                let func = self.expr(func, depth);
                let mut args = Vec::new();
                if let Some(list) = n.child_by_field_name("arguments") {
                    if list.kind() == "argument_list" {
                        let mut cursor = list.walk();
                        for a in list.named_children(&mut cursor) {
                            args.push(match a.kind() {
                                "keyword_argument" => {
                                    match (a.child_by_field_name("name"), a.child_by_field_name("value")) {
                                        (Some(k), Some(v)) => Arg::Kw(self.text(k).to_string(), self.expr(v, depth)),
                                        _ => continue,
                                    }
                                }
                                "list_splat" => Arg::Star(self.first_named(a, depth)),
                                "dictionary_splat" => Arg::DoubleStar(self.first_named(a, depth)),
                                "comment" => continue,
                                _ => Arg::Pos(self.expr(a, depth)),
                            });
                        }
                    } else {
                        args.push(Arg::Pos(Expr::Other(span(list))));
                    }
                }
                Expr::Call(Box::new(Call { func, args, span: sp }))
            }
            "string" => Expr::Str(string_value(n, self.src), sp),
            "concatenated_string" => {
                let mut value = Some(String::new());
                let mut cursor = n.walk();
                for part in n.named_children(&mut cursor) {
                    match (value.as_mut(), string_value(part, self.src)) {
                        (Some(v), Some(p)) if part.kind() == "string" => v.push_str(&p),
                        _ => value = None,
                    }
                }
                Expr::Str(value, sp)
            }
            "dictionary" => {
                let mut items = Vec::new();
                let mut cursor = n.walk();
                for item in n.named_children(&mut cursor) {
                    match item.kind() {
                        "pair" => {
                            if let (Some(k), Some(v)) =
                                (item.child_by_field_name("key"), item.child_by_field_name("value"))
                            {
                                items.push(DictItem::Pair(self.expr(k, depth), self.expr(v, depth)));
                            }
                        }
                        "dictionary_splat" => items.push(DictItem::Splat(self.first_named(item, depth))),
                        _ => {}
                    }
                }
                Expr::Dict(items, sp)
            }
            "boolean_operator" => {
                let or_ = n.child_by_field_name("operator").is_some_and(|o| o.kind() == "or");
                match (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    (Some(l), Some(r)) => Expr::BoolOp {
                        or_,
                        left: Box::new(self.expr(l, depth)),
                        right: Box::new(self.expr(r, depth)),
                        span: sp,
                    },
                    _ => Expr::Other(sp),
                }
            }
            "conditional_expression" => match (n.named_child(0), n.named_child(2)) {
                (Some(body), Some(orelse)) => {
                    Expr::IfExp(Box::new(self.expr(body, depth)), Box::new(self.expr(orelse, depth)), sp)
                }
                _ => Expr::Other(sp),
            },
            "true" => Expr::Bool(true, sp),
            "false" => Expr::Bool(false, sp),
            "none" => Expr::None(sp),
            "integer" => parse_int(self.text(n)).map_or(Expr::Other(sp.clone()), |i| Expr::Int(i, sp)),
            // `t[-1]`
            "unary_operator" => match (n.child_by_field_name("operator"), n.child_by_field_name("argument")) {
                (Some(op), Some(arg)) if op.kind() == "-" && arg.kind() == "integer" => {
                    parse_int(self.text(arg)).map_or(Expr::Other(sp.clone()), |i| Expr::Int(-i, sp))
                }
                _ => Expr::Other(sp),
            },
            "subscript" => match (n.child_by_field_name("value"), n.child_by_field_name("subscript")) {
                (Some(v), Some(s)) => Expr::Subscript(Box::new(self.expr(v, depth)), Box::new(self.expr(s, depth)), sp),
                _ => Expr::Other(sp),
            },
            "tuple" | "list" | "expression_list" => {
                let mut cursor = n.walk();
                let items: Vec<Node> = n.named_children(&mut cursor).filter(|c| c.kind() != "comment").collect();
                Expr::Tuple(items.into_iter().map(|c| self.expr(c, depth)).collect(), sp)
            }
            "list_splat" => Expr::Starred(Box::new(self.first_named(n, depth)), sp),
            // Annotations: `Annotated[str, typer.Option()]` is a generic type.
            "type" => self.first_named(n, depth),
            "generic_type" => {
                let mut cursor = n.walk();
                let parts: Vec<Node> = n.named_children(&mut cursor).collect();
                match parts.as_slice() {
                    [base, params] if params.kind() == "type_parameter" => {
                        let mut c2 = params.walk();
                        let items = params.named_children(&mut c2).map(|t| self.expr(t, depth)).collect();
                        let index = Expr::Tuple(items, span(*params));
                        Expr::Subscript(Box::new(self.expr(*base, depth)), Box::new(index), sp)
                    }
                    _ => Expr::Other(sp),
                }
            }
            "parenthesized_expression" => match n.named_child(0) {
                Some(inner) if inner.kind() != "comment" => self.expr(inner, depth),
                _ => Expr::Other(sp),
            },
            _ => Expr::Other(sp),
        }
    }

    fn first_named(&mut self, n: Node, depth: usize) -> Expr {
        match n.named_child(0) {
            Some(c) => self.expr(c, depth),
            None => Expr::Other(span(n)),
        }
    }
}

/// `a . b` -> `a.b` (dotted names may hold spaces or line continuations).
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '\\').collect()
}

fn collect_identifiers(n: Node, src: &[u8], out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match n.kind() {
        "identifier" => out.push(n.utf8_text(src).unwrap_or("").to_string()),
        // `obj.attr` / `obj[i]` as a target binds no name.
        "attribute" | "subscript" => {}
        _ => {
            let mut cursor = n.walk();
            for c in n.named_children(&mut cursor) {
                collect_identifiers(c, src, out, depth + 1);
            }
        }
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let t = text.replace('_', "");
    let lower = t.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else {
        lower.trim_end_matches('l').parse().ok()
    }
}

/// The value of one `string` node; `None` for bytes, f-strings with
/// interpolation, and escapes we cannot decode (`\N{...}`).
fn string_value(n: Node, src: &[u8]) -> Option<String> {
    if n.kind() != "string" {
        return None;
    }
    let mut start = None;
    let mut end = None;
    let mut cursor = n.walk();
    for c in n.children(&mut cursor) {
        match c.kind() {
            "string_start" => start = Some(c),
            "string_end" => end = Some(c),
            "interpolation" => return None,
            _ => {}
        }
    }
    let (start, end) = (start?, end?);
    let opener = start.utf8_text(src).ok()?;
    let prefix: String =
        opener.chars().take_while(|c| c.is_ascii_alphabetic()).map(|c| c.to_ascii_lowercase()).collect();
    if prefix.contains('b') || prefix.contains('t') {
        return None;
    }
    let body = std::str::from_utf8(src.get(start.end_byte()..end.start_byte())?).ok()?;
    let body = if prefix.contains('f') { body.replace("{{", "{").replace("}}", "}") } else { body.to_string() };
    if prefix.contains('r') { Some(body) } else { unescape(&body) }
}

/// Python's backslash escapes for `str` literals.
pub(crate) fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\\' | '\'' | '"' => out.push(e),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v)?);
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                if hex.len() != n {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            'N' => return None,
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Callee names that start Werkzeug's server or hand such a callable on.
const SERVER_ATTRS: [&str; 3] = ["run", "run_server", "run_simple"];

/// Names a module binds to something that may start a server: a bound
/// method kept in a variable (`run = app.run`), a partial of one
/// (`start = partial(app.run, host=...)`), or `run_simple` under an alias.
/// A call of such a name is a candidate too.
fn starter_names(scopes: &[Scope]) -> Vec<String> {
    fn walk(stmts: &[Stmt], names: &mut Vec<String>) {
        for st in stmts {
            match st {
                Stmt::Assign { targets, value: Some(v), .. } if mentions_starter(v, names, 0) => {
                    for t in targets {
                        if let Target::Name(n) = t
                            && !names.contains(n)
                        {
                            names.push(n.clone());
                        }
                    }
                }
                Stmt::Import { bindings, .. } => {
                    for (bound, r) in bindings {
                        if r.name.as_deref() == Some("run_simple") && !names.contains(bound) {
                            names.push(bound.clone());
                        }
                    }
                }
                Stmt::Block { branches, .. } => branches.iter().for_each(|(_, body)| walk(body, names)),
                _ => {}
            }
        }
    }
    let mut names = Vec::new();
    for s in scopes {
        walk(&s.body, &mut names);
    }
    names
}

/// Does `e` name (or wrap, as `partial(app.run, ...)` does) a server start?
fn mentions_starter(e: &Expr, names: &[String], depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match e {
        Expr::Attr(_, a, _) => SERVER_ATTRS.contains(&a.as_str()),
        Expr::Name(n, _) => n == "run_simple" || names.contains(n),
        Expr::Call(c) => {
            mentions_starter(&c.func, names, depth + 1)
                || c.args.iter().any(|a| match a {
                    Arg::Pos(e) | Arg::Kw(_, e) => mentions_starter(e, names, depth + 1),
                    _ => false,
                })
        }
        Expr::IfExp(a, b, _) | Expr::BoolOp { left: a, right: b, .. } => {
            mentions_starter(a, names, depth + 1) || mentions_starter(b, names, depth + 1)
        }
        _ => false,
    }
}

/// Is this callee or argument node a (possible) server start?
fn starter_node(n: Node, src: &[u8], names: &[String], depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match n.kind() {
        // `partial(app.run, host=...)()`, `Thread(target=partial(...))`.
        "call" => is_candidate_at(n, src, names, depth + 1),
        "parenthesized_expression" => n.named_child(0).is_some_and(|c| starter_node(c, src, names, depth + 1)),
        // `app.run`, or `Srv.start` where `start = partial(app.run, ...)`.
        "attribute" => n
            .child_by_field_name("attribute")
            .and_then(|a| a.utf8_text(src).ok())
            .is_some_and(|a| SERVER_ATTRS.contains(&a) || names.iter().any(|s| s == a)),
        "identifier" => n.utf8_text(src).is_ok_and(|t| t == "run_simple" || names.iter().any(|s| s == t)),
        _ => false,
    }
}

/// A candidate call: its callee, or one of its arguments (`Thread(target=
/// app.run)`, `executor.submit(run_simple, ...)`), may start a server.
fn is_candidate(call: Node, src: &[u8], names: &[String]) -> bool {
    is_candidate_at(call, src, names, 0)
}

fn is_candidate_at(call: Node, src: &[u8], names: &[String], depth: usize) -> bool {
    if call.child_by_field_name("function").is_some_and(|f| starter_node(f, src, names, depth)) {
        return true;
    }
    let Some(args) = call.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list") else {
        return false;
    };
    let mut cursor = args.walk();
    args.named_children(&mut cursor).any(|a| {
        let value = if a.kind() == "keyword_argument" { a.child_by_field_name("value") } else { Some(a) };
        value.is_some_and(|v| starter_node(v, src, names, depth))
    })
}

/// All candidate calls (anywhere: statements, lambdas, arguments...) and
/// all suppression comments, in one iterative walk of the tree.
fn collect_calls_and_comments(
    tree: &Tree,
    src: &[u8],
    scopes: &[Scope],
    starters: &[String],
    lines: &LineIndex,
) -> (Vec<RunCall>, Vec<(usize, Directives)>) {
    let mut calls = Vec::new();
    let mut comments = Vec::new();
    let mut lower = Lower { src, scopes: Vec::new() };
    let mut cursor = tree.walk();
    let mut visit = true;
    loop {
        if visit {
            let n = cursor.node();
            match n.kind() {
                "call" if is_candidate(n, src, starters) => {
                    if let Expr::Call(call) = lower.expr(n, 0) {
                        calls.push(RunCall { call: *call, scope: innermost_scope(scopes, n.start_byte()) });
                    }
                }
                "comment" => {
                    if let Some(d) = super::comments::parse(n.utf8_text(src).unwrap_or("")) {
                        comments.push((lines.line(n.start_byte()), d));
                    }
                }
                _ => {}
            }
        }
        // Pre-order walk: down, else right, else up (and then right).
        if (visit && cursor.goto_first_child()) || cursor.goto_next_sibling() {
            visit = true;
        } else if cursor.goto_parent() {
            visit = false;
        } else {
            break;
        }
    }
    comments.sort_by_key(|(l, _)| *l);
    comments.dedup_by_key(|(l, _)| *l);
    (calls, comments)
}

/// The innermost scope whose body holds `offset`.
pub(crate) fn innermost_scope(scopes: &[Scope], offset: usize) -> ScopeId {
    let mut best = 0;
    for (id, s) in scopes.iter().enumerate().skip(1) {
        if s.body_start <= offset && offset < s.span.end && s.span.len() <= scopes[best].span.len() {
            best = id;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes() {
        assert_eq!(unescape(r"\x30.0.0.0").unwrap(), "0.0.0.0");
        assert_eq!(unescape(r"\060").unwrap(), "0");
        assert_eq!(unescape(r"a\qb").unwrap(), r"a\qb");
        assert_eq!(unescape(r"\N{DIGIT ZERO}"), None);
    }
}
