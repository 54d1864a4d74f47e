//! tree-sitter concrete syntax tree -> the owned [`ir`](super::ir).
//!
//! tree-sitter recovers from syntax errors, so a half-typed file still yields
//! the statements around the error. Recursion is bounded by [`MAX_DEPTH`]: a
//! pathological file (thousands of nested brackets) loses detail, never the
//! stack.

use std::cell::RefCell;
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::sync::LazyLock;

use tree_sitter::{Language, Node, Parser, Tree};

use super::ir::*;
use crate::source::{LineIndex, SourceText};

const MAX_DEPTH: usize = 150;

/// The fields of tree-sitter-python's nodes that lowering reads.
#[derive(Clone, Copy)]
enum Field {
    Alias,
    Alternative,
    Argument,
    Arguments,
    Attribute,
    Body,
    Consequence,
    Definition,
    Function,
    Guard,
    Key,
    Left,
    ModuleName,
    Name,
    Object,
    Operator,
    Parameters,
    Right,
    Subscript,
    Superclasses,
    Type,
    Value,
}

const FIELD_NAMES: [&str; 22] = [
    "alias",
    "alternative",
    "argument",
    "arguments",
    "attribute",
    "body",
    "consequence",
    "definition",
    "function",
    "guard",
    "key",
    "left",
    "module_name",
    "name",
    "object",
    "operator",
    "parameters",
    "right",
    "subscript",
    "superclasses",
    "type",
    "value",
];

/// tree-sitter-python, with tree-sitter's allocator set first (see
/// [`use_mimalloc_for_tree_sitter`]): every parser is made from it.
static LANGUAGE: LazyLock<Language> = LazyLock::new(|| {
    use_mimalloc_for_tree_sitter();
    tree_sitter_python::LANGUAGE.into()
});

/// What lowering asks of the grammar on every node, looked up once: node
/// kinds by id (`Node::kind` goes through the C API and a UTF-8 check per
/// call) and field ids (`child_by_field_name` compares the name against
/// the grammar's field names on every call).
struct Grammar {
    kinds: Box<[&'static str]>,
    fields: [NonZeroU16; FIELD_NAMES.len()],
}

static GRAMMAR: LazyLock<Grammar> = LazyLock::new(|| {
    let language: &'static Language = &LANGUAGE;
    let kinds = (0..language.node_kind_count())
        .map(|id| u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or(""))
        .collect();
    let fields = FIELD_NAMES
        .map(|name| language.field_id_for_name(name).expect("tree-sitter-python has the fields lowering reads"));
    Grammar { kinds, fields }
});

/// tree-sitter's C library allocates every parse-stack entry and subtree
/// with `malloc`; glibc's spent a fifth of the parse in `_int_malloc` and
/// `free` on the 20,000-module tree. mimalloc (the Rust allocator of the
/// binary already) serves them from thread-local pages. Called once, from
/// [`LANGUAGE`]'s initialiser, before any tree-sitter object exists.
fn use_mimalloc_for_tree_sitter() {
    use std::ffi::c_void;
    unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        unsafe { libmimalloc_sys::mi_malloc(size) }
    }
    unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        match count.checked_mul(size) {
            Some(total) => unsafe { libmimalloc_sys::mi_zalloc(total) },
            None => std::ptr::null_mut(),
        }
    }
    unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        unsafe { libmimalloc_sys::mi_realloc(ptr, size) }
    }
    unsafe extern "C" fn free(ptr: *mut c_void) {
        unsafe { libmimalloc_sys::mi_free(ptr) }
    }
    // SAFETY: one allocator family, malloc's alignment, set before any
    // other tree-sitter call (`LANGUAGE`'s initialiser runs first and once).
    unsafe { tree_sitter::set_allocator(Some(tree_sitter::Allocator { malloc, calloc, realloc, free })) };
}

fn field_id(field: Field) -> NonZeroU16 {
    GRAMMAR.fields[field as usize]
}

/// Fast forms of the `Node` queries lowering makes on every node.
trait NodeExt<'t>: Sized {
    fn kind_name(&self) -> &'static str;
    fn field(&self, field: Field) -> Option<Self>;
}

impl<'t> NodeExt<'t> for Node<'t> {
    fn kind_name(&self) -> &'static str {
        // `ERROR` (65535) is past the table: ask tree-sitter.
        match GRAMMAR.kinds.get(usize::from(self.kind_id())) {
            Some(name) => name,
            None => LANGUAGE.node_kind_for_id(self.kind_id()).unwrap_or(""),
        }
    }

    fn field(&self, field: Field) -> Option<Self> {
        self.child_by_field_id(field_id(field).get())
    }
}

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new({
        let language: &Language = &LANGUAGE;
        let mut p = Parser::new();
        p.set_language(language)
            .expect("the bundled tree-sitter-python grammar matches the tree-sitter version");
        p
    });
}

/// The syntax tree of `text` alone (no lowering), from the parser every
/// module is parsed with: a parser made elsewhere could predate tree-sitter's
/// allocator being set, and its memory would then be freed by another.
pub fn parse_tree(text: &str) -> Option<Tree> {
    PARSER.with(|p| p.borrow_mut().parse(text.as_bytes(), None))
}

/// Parse and lower one module.
pub fn parse_module(path: PathBuf, source: SourceText) -> Module {
    parse_module_in(path, source, parts_for)
}

/// [`parse_module`], parsed in as many parts as `parts` says for a text
/// of that length (tests ask for more than the size would give).
fn parse_module_in(path: PathBuf, source: SourceText, parts: impl Fn(usize) -> usize) -> Module {
    let lines = LineIndex::new(&source.text);
    let trees = parse_trees(&source.text, &lines, parts(source.text.len()));
    let mut module = Module {
        path,
        lines,
        scopes: Vec::new(),
        run_calls: Vec::new(),
        starters: Vec::new(),
        suppressions: Vec::new(),
        has_syntax_error: trees.is_empty() || trees.iter().any(|t| t.root_node().has_error()),
        source,
    };
    if trees.is_empty() {
        module.scopes.push(empty_scope(ScopeKind::Module, "<module>", None, 0..0));
        return module;
    }
    let mut lower = Lower { src: &module.source.text, scopes: Vec::new() };
    lower.module(&trees);
    let Lower { scopes, .. } = lower;
    let starters = starter_names(&scopes);
    let (run_calls, suppressions) =
        collect_calls_and_comments(&trees, &module.source.text, &scopes, &starters, &module.lines);
    module.scopes = scopes;
    module.run_calls = run_calls;
    module.starters = starters;
    module.suppressions = suppressions;
    module
}

/// A module gets a part per this many bytes, up to one per core: a part
/// of 48 KB parses in about 12 ms, far more than starting its thread and
/// finding the cuts cost (tens of microseconds); a smaller module is
/// parsed whole.
const PART_BYTES: usize = 48 * 1024;

fn parts_for(len: usize) -> usize {
    if len < 2 * PART_BYTES {
        return 1;
    }
    static CORES: LazyLock<usize> = LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    (len / PART_BYTES).min(*CORES)
}

/// The syntax trees of `text`, in order: one, or one per part (see
/// [`super::parts`]) parsed on threads of their own when `parts` > 1 and
/// the text has places to cut. Parts are only kept when none has a syntax
/// error; otherwise the whole text is parsed again, so that error recovery
/// sees what it would have seen. Empty if tree-sitter gave no tree.
fn parse_trees(text: &str, lines: &LineIndex, parts: usize) -> Vec<Tree> {
    if parts > 1 {
        let cuts = super::parts::cuts(&super::parts::statement_starts(text.as_bytes()), text.len(), parts);
        if !cuts.is_empty() {
            let bounds: Vec<(usize, usize)> = std::iter::once(0)
                .chain(cuts.iter().copied())
                .zip(cuts.iter().copied().chain(std::iter::once(text.len())))
                .collect();
            let trees: Option<Vec<Tree>> = std::thread::scope(|scope| {
                // A part whose thread cannot be started is parsed here.
                let rest: Vec<_> = bounds[1..]
                    .iter()
                    .map(|&b| std::thread::Builder::new().spawn_scoped(scope, move || parse_part(text, lines, b)))
                    .collect();
                let first = parse_part(text, lines, bounds[0]);
                std::iter::once(first)
                    .chain(rest.into_iter().zip(&bounds[1..]).map(|(handle, &b)| match handle {
                        Ok(handle) => handle.join().ok().flatten(),
                        Err(_) => parse_part(text, lines, b),
                    }))
                    .collect()
            });
            if let Some(trees) = trees
                && trees.iter().all(|t| !t.root_node().has_error())
            {
                return trees;
            }
        }
    }
    parse_tree(text).into_iter().collect()
}

/// The tree of `text[start..end]` (a run of whole top-level statements),
/// with the positions it has in the whole text.
fn parse_part(text: &str, lines: &LineIndex, (start, end): (usize, usize)) -> Option<Tree> {
    let point = |offset: usize| {
        let line = lines.line(offset);
        tree_sitter::Point { row: line - 1, column: offset - lines.line_start(line) }
    };
    let range =
        tree_sitter::Range { start_byte: start, end_byte: end, start_point: point(start), end_point: point(end) };
    PARSER.with(|p| {
        let mut p = p.borrow_mut();
        p.set_included_ranges(&[range]).ok()?;
        let tree = p.parse(text.as_bytes(), None);
        // The thread's parser parses whole modules next.
        let _ = p.set_included_ranges(&[]);
        tree
    })
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
    src: &'s str,
    scopes: Vec<Scope>,
}

/// The text of a node (tree-sitter's nodes start and end on character
/// boundaries of valid UTF-8).
fn text<'a>(n: Node, src: &'a str) -> &'a str {
    src.get(n.byte_range()).unwrap_or("")
}

fn span(n: Node) -> Span {
    n.start_byte()..n.end_byte()
}

impl<'s> Lower<'s> {
    fn text(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    /// The module whose parts `trees` are, in order (see [`parse_trees`]).
    fn module(&mut self, trees: &[Tree]) {
        let roots: Vec<Node> = trees.iter().map(Tree::root_node).collect();
        let whole = roots.first().map_or(0, Node::start_byte)..roots.last().map_or(0, Node::end_byte);
        self.scopes.push(empty_scope(ScopeKind::Module, "<module>", None, whole));
        let mut body = Vec::new();
        for root in roots {
            body.extend(self.block(root, 0, 0));
        }
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
        match n.kind_name() {
            "expression_statement" => {
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    match child.kind_name() {
                        "assignment" => self.assignment(child, depth, out),
                        "augmented_assignment" => {
                            if let Some(left) = child.field(Field::Left) {
                                self.unknown_binding(left, span(child), out);
                            }
                        }
                        "call" => {
                            let call = self.expr(child, depth);
                            out.push(Stmt::Call { call, span: span(n) });
                        }
                        // `await f(...)` as a statement: the call as above.
                        "await" => {
                            if let call @ Expr::Call(_) = self.expr(child, depth) {
                                out.push(Stmt::Call { call, span: span(n) });
                            }
                        }
                        _ => {}
                    }
                }
            }
            "import_statement" => self.import(n, out),
            "import_from_statement" => self.import_from(n, out),
            "function_definition" | "class_definition" => self.def(n, n, scope, depth, out),
            "decorated_definition" => {
                if let Some(def) = n.field(Field::Definition) {
                    self.def(def, n, scope, depth, out);
                }
            }
            "if_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.field(Field::Consequence) {
                    branches.push((span(b), self.block(b, scope, depth)));
                }
                let mut cursor = n.walk();
                let mut exhaustive = false;
                for alt in n.children_by_field_id(field_id(Field::Alternative), &mut cursor) {
                    exhaustive |= alt.kind_name() == "else_clause";
                    let body = alt.field(Field::Consequence).or_else(|| alt.field(Field::Body));
                    if let Some(b) = body {
                        branches.push((span(alt), self.block(b, scope, depth)));
                    }
                }
                out.push(Stmt::Block { branches, always_runs: false, exhaustive, choice: true, span: span(n) });
            }
            "for_statement" | "while_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.field(Field::Body) {
                    let mut body = Vec::new();
                    if let Some(left) = n.field(Field::Left) {
                        self.unknown_binding(left, span(left), &mut body);
                    }
                    body.extend(self.block(b, scope, depth));
                    branches.push((span(b), body));
                }
                if let Some(alt) = n.field(Field::Alternative)
                    && let Some(b) = alt.field(Field::Body)
                {
                    branches.push((span(alt), self.block(b, scope, depth)));
                }
                out.push(Stmt::Block { branches, always_runs: false, exhaustive: false, choice: false, span: span(n) });
            }
            "try_statement" => {
                let mut branches = Vec::new();
                if let Some(b) = n.field(Field::Body) {
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
                    match clause.kind_name() {
                        "except_clause" | "except_group_clause" => {
                            if let Some(alias) = clause.field(Field::Alias) {
                                self.unknown_binding(alias, span(alias), &mut body);
                            }
                            let mut catches_import_error = true;
                            let mut c2 = clause.walk();
                            for part in clause.named_children(&mut c2) {
                                if part.kind_name() == "as_pattern"
                                    && let Some(alias) = part.field(Field::Alias)
                                {
                                    self.unknown_binding(alias, span(alias), &mut body);
                                }
                                if part.kind_name() == "block" {
                                    body.extend(self.block(part, scope, depth));
                                } else if part.kind_name() != "comment" {
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
                            if let Some(b) = clause.field(Field::Body) {
                                body.extend(self.block(b, scope, depth));
                            }
                        }
                        "finally_clause" => {
                            let mut c2 = clause.walk();
                            for part in clause.named_children(&mut c2) {
                                if part.kind_name() == "block" {
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
                let kinds: Vec<&str> = n.named_children(&mut c3).map(|c| c.kind_name()).collect();
                let exhaustive = kinds.iter().any(|k| k.starts_with("except"))
                    && !kinds.iter().any(|k| matches!(*k, "else_clause" | "finally_clause"));
                out.push(Stmt::Block { branches, always_runs: false, exhaustive, choice: false, span: span(n) });
            }
            "with_statement" => {
                let mut body = Vec::new();
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if child.kind_name() == "with_clause" {
                        let mut c2 = child.walk();
                        for item in child.named_children(&mut c2) {
                            if let Some(v) = item.field(Field::Value)
                                && v.kind_name() == "as_pattern"
                                && let Some(alias) = v.field(Field::Alias)
                            {
                                self.unknown_binding(alias, span(item), &mut body);
                            }
                        }
                    }
                }
                if let Some(b) = n.field(Field::Body) {
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
                if let Some(body) = n.field(Field::Body) {
                    let mut cursor = body.walk();
                    for case in body.named_children(&mut cursor) {
                        // `case _:` (or a bare capture, `case other:`) without a
                        // guard matches whatever the others do not.
                        let mut c2 = case.walk();
                        let irrefutable = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
                        let wildcard = case.field(Field::Guard).is_none()
                            && case
                                .named_children(&mut c2)
                                .any(|p| p.kind_name() == "case_pattern" && irrefutable(self.text(p).trim()));
                        exhaustive |= wildcard;
                        if let Some(b) = case.field(Field::Consequence) {
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
                    .filter(|c| c.kind_name() == "identifier")
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
            if let Some(left) = node.field(Field::Left) {
                match self.target(left, depth) {
                    Some(t) => targets.push(t),
                    None => unpacked.push(left),
                }
            }
            if let Some(ty) = node.field(Field::Type) {
                annotation = ty.named_child(0).map(|t| self.expr(t, depth));
            }
            match node.field(Field::Right) {
                Some(r) if r.kind_name() == "assignment" => node = r,
                Some(r) if matches!(r.kind_name(), "pattern_list" | "yield" | "augmented_assignment") => {
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
            if value.is_none() && annotation.is_some() && n.field(Field::Right).is_none() {
                return;
            }
            out.push(Stmt::Assign { targets, value, annotation, span: sp });
        }
    }

    /// A simple assignment target; `None` for unpacking patterns.
    fn target(&mut self, n: Node, depth: usize) -> Option<Target> {
        match n.kind_name() {
            "identifier" => Some(Target::Name(self.text(n).to_string())),
            "attribute" => {
                let obj = n.field(Field::Object)?;
                let attr = n.field(Field::Attribute)?;
                Some(Target::Attr(self.expr(obj, depth), self.text(attr).to_string()))
            }
            "subscript" => {
                let value = n.field(Field::Value)?;
                let index = n.field(Field::Subscript)?;
                Some(Target::Subscript(self.expr(value, depth), self.expr(index, depth)))
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" if depth < MAX_DEPTH => {
                let mut cursor = n.walk();
                let items: Vec<Node> = n.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").collect();
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
        for name in n.children_by_field_id(field_id(Field::Name), &mut cursor) {
            match name.kind_name() {
                "dotted_name" => {
                    let full = self.text(name);
                    let (first, rest) = full.split_once('.').unwrap_or((full, ""));
                    bindings.push((
                        first.to_string(),
                        ImportRef { level: 0, module: first.to_string(), name: None, submodules: rest.to_string() },
                    ));
                }
                "aliased_import" => {
                    let (Some(module), Some(alias)) = (name.field(Field::Name), name.field(Field::Alias)) else {
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
        let Some(module_node) = n.field(Field::ModuleName) else {
            return;
        };
        let (level, module) = match module_node.kind_name() {
            "relative_import" => {
                let text = compact(self.text(module_node));
                let level = text.chars().take_while(|&c| c == '.').count() as u32;
                (level, text.trim_start_matches('.').to_string())
            }
            _ => (0, compact(self.text(module_node))),
        };
        let mut cursor = n.walk();
        if n.named_children(&mut cursor).any(|c| c.kind_name() == "wildcard_import") {
            out.push(Stmt::StarImport { level, module, span: span(n) });
            return;
        }
        let mut bindings = Vec::new();
        let mut cursor = n.walk();
        for name in n.children_by_field_id(field_id(Field::Name), &mut cursor) {
            let (imported, bound) = match name.kind_name() {
                "dotted_name" => (self.text(name), self.text(name)),
                "aliased_import" => match (name.field(Field::Name), name.field(Field::Alias)) {
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
        let Some(name_node) = def.field(Field::Name) else {
            return;
        };
        let name = self.text(name_node).to_string();
        let kind = if def.kind_name() == "class_definition" { ScopeKind::Class } else { ScopeKind::Function };
        let id = self.scopes.len();
        let mut scope = empty_scope(kind, &name, Some(parent), span(outer));
        let body = def.field(Field::Body);
        scope.body_start = body.map_or(def.end_byte(), |b| b.start_byte());
        let mut cursor = outer.walk();
        // Only a `decorated_definition` holds decorators.
        let decorators = if outer.id() == def.id() { None } else { Some(outer.named_children(&mut cursor)) };
        for dec in decorators.into_iter().flatten().filter(|c| c.kind_name() == "decorator") {
            scope.decorators.push(self.text(dec).trim_start_matches('@').trim().to_string());
            if let Some(e) = dec.named_child(0).filter(|e| e.kind_name() != "comment") {
                let e = self.expr(e, depth);
                scope.decorator_exprs.push(e);
            }
        }
        if let Some(params) = def.field(Field::Parameters) {
            scope.params = self.params(params, depth);
        }
        if let Some(supers) = def.field(Field::Superclasses) {
            let mut c = supers.walk();
            for base in supers.named_children(&mut c) {
                if base.kind_name() != "keyword_argument" {
                    scope.bases.push(self.expr(base, depth));
                }
            }
        }
        if kind == ScopeKind::Class
            && let Some(b) = body
        {
            let mut c = b.walk();
            for st in b.named_children(&mut c).filter(|n| n.kind_name() == "expression_statement") {
                if let Some(a) =
                    st.named_child(0).filter(|a| a.kind_name() == "assignment" && a.field(Field::Type).is_some())
                    && let Some(left) = a.field(Field::Left).filter(|l| l.kind_name() == "identifier")
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
            let (name, annotation) = match p.kind_name() {
                "identifier" => (Some(p), None),
                "typed_parameter" => (p.named_child(0).filter(|c| c.kind_name() == "identifier"), p.field(Field::Type)),
                "default_parameter" => (p.field(Field::Name), None),
                "typed_default_parameter" => (p.field(Field::Name), p.field(Field::Type)),
                "list_splat_pattern" | "dictionary_splat_pattern" => (p.named_child(0), None),
                "keyword_separator" => {
                    keyword_only = true;
                    (None, None)
                }
                _ => (None, None),
            };
            // `*args: int` is a typed_parameter holding a list_splat_pattern.
            let splat = matches!(p.kind_name(), "list_splat_pattern" | "dictionary_splat_pattern")
                || p.named_child(0)
                    .is_some_and(|c| matches!(c.kind_name(), "list_splat_pattern" | "dictionary_splat_pattern"));
            let name = name.or_else(|| if splat { p.named_child(0).and_then(|c| c.named_child(0)) } else { None });
            if let Some(name) = name.filter(|n| n.kind_name() == "identifier") {
                out.push(Param {
                    name: self.text(name).to_string(),
                    annotation: annotation.and_then(|t| t.named_child(0)).map(|t| self.expr(t, depth)),
                    default: p.field(Field::Value).map(|v| self.expr(v, depth)),
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
        match n.kind_name() {
            "identifier" => Expr::Name(self.text(n).to_string(), sp),
            "attribute" => match (n.field(Field::Object), n.field(Field::Attribute)) {
                (Some(o), Some(a)) => Expr::Attr(Box::new(self.expr(o, depth)), self.text(a).to_string(), sp),
                _ => Expr::Other(sp),
            },
            "call" => {
                let Some(func) = n.field(Field::Function) else {
                    return Expr::Other(sp);
                };
                let func = self.expr(func, depth);
                let mut args = Vec::new();
                if let Some(list) = n.field(Field::Arguments) {
                    if list.kind_name() == "argument_list" {
                        let mut cursor = list.walk();
                        for a in list.named_children(&mut cursor) {
                            args.push(match a.kind_name() {
                                "keyword_argument" => match (a.field(Field::Name), a.field(Field::Value)) {
                                    (Some(k), Some(v)) => Arg::Kw(self.text(k).to_string(), self.expr(v, depth)),
                                    _ => continue,
                                },
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
                        (Some(v), Some(p)) if part.kind_name() == "string" => v.push_str(&p),
                        _ => value = None,
                    }
                }
                Expr::Str(value, sp)
            }
            "dictionary" => {
                let mut items = Vec::new();
                let mut cursor = n.walk();
                for item in n.named_children(&mut cursor) {
                    match item.kind_name() {
                        "pair" => {
                            if let (Some(k), Some(v)) = (item.field(Field::Key), item.field(Field::Value)) {
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
                let or_ = n.field(Field::Operator).is_some_and(|o| o.kind_name() == "or");
                match (n.field(Field::Left), n.field(Field::Right)) {
                    (Some(l), Some(r)) => Expr::BoolOp {
                        or_,
                        left: Box::new(self.expr(l, depth)),
                        right: Box::new(self.expr(r, depth)),
                        span: sp,
                    },
                    _ => Expr::Other(sp),
                }
            }
            "comparison_operator" => {
                let mut cursor = n.walk();
                let mut operands = Vec::new();
                let mut ops = Vec::new();
                for c in n.children(&mut cursor) {
                    match c.kind_name() {
                        "comment" => {}
                        _ if c.is_named() => operands.push(c),
                        "==" => ops.push(CmpOp::Eq),
                        "!=" => ops.push(CmpOp::NotEq),
                        "in" => ops.push(CmpOp::In),
                        "not in" => ops.push(CmpOp::NotIn),
                        "is" => ops.push(CmpOp::Is),
                        "is not" => ops.push(CmpOp::IsNot),
                        _ => return Expr::Other(sp),
                    }
                }
                match (operands.as_slice(), ops.as_slice()) {
                    ([l, r], [op]) => Expr::Compare {
                        op: *op,
                        left: Box::new(self.expr(*l, depth)),
                        right: Box::new(self.expr(*r, depth)),
                        span: sp,
                    },
                    _ => Expr::Other(sp),
                }
            }
            "not_operator" => match n.field(Field::Argument) {
                Some(a) => Expr::Not(Box::new(self.expr(a, depth)), sp),
                None => Expr::Other(sp),
            },
            "conditional_expression" => match (n.named_child(0), n.named_child(1), n.named_child(2)) {
                (Some(body), Some(test), Some(orelse)) => Expr::IfExp {
                    test: Box::new(self.expr(test, depth)),
                    body: Box::new(self.expr(body, depth)),
                    orelse: Box::new(self.expr(orelse, depth)),
                    span: sp,
                },
                _ => Expr::Other(sp),
            },
            "true" => Expr::Bool(true, sp),
            "false" => Expr::Bool(false, sp),
            "none" => Expr::None(sp),
            "integer" => parse_int(self.text(n)).map_or(Expr::Other(sp.clone()), |i| Expr::Int(i, sp)),
            // `t[-1]`
            "unary_operator" => match (n.field(Field::Operator), n.field(Field::Argument)) {
                (Some(op), Some(arg)) if op.kind_name() == "-" && arg.kind_name() == "integer" => {
                    parse_int(self.text(arg)).map_or(Expr::Other(sp.clone()), |i| Expr::Int(-i, sp))
                }
                _ => Expr::Other(sp),
            },
            "subscript" => match (n.field(Field::Value), n.field(Field::Subscript)) {
                (Some(v), Some(s)) => Expr::Subscript(Box::new(self.expr(v, depth)), Box::new(self.expr(s, depth)), sp),
                _ => Expr::Other(sp),
            },
            "tuple" | "list" | "expression_list" => {
                let mut cursor = n.walk();
                let items: Vec<Node> = n.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").collect();
                Expr::Tuple(items.into_iter().map(|c| self.expr(c, depth)).collect(), sp)
            }
            "list_splat" => Expr::Starred(Box::new(self.first_named(n, depth)), sp),
            // Annotations: `Annotated[str, typer.Option()]` is a generic type.
            "type" => self.first_named(n, depth),
            "generic_type" => {
                let mut cursor = n.walk();
                let parts: Vec<Node> = n.named_children(&mut cursor).collect();
                match parts.as_slice() {
                    [base, params] if params.kind_name() == "type_parameter" => {
                        let mut c2 = params.walk();
                        let items = params.named_children(&mut c2).map(|t| self.expr(t, depth)).collect();
                        let index = Expr::Tuple(items, span(*params));
                        Expr::Subscript(Box::new(self.expr(*base, depth)), Box::new(index), sp)
                    }
                    _ => Expr::Other(sp),
                }
            }
            "parenthesized_expression" => match n.named_child(0) {
                Some(inner) if inner.kind_name() != "comment" => self.expr(inner, depth),
                _ => Expr::Other(sp),
            },
            // `await loop.run_in_executor(None, serve, ...)`: the call is
            // made, and what it hands on is called, as without `await`.
            "await" => match n.named_child(0) {
                Some(inner) if inner.kind_name() != "comment" => self.expr(inner, depth),
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

fn collect_identifiers(n: Node, src: &str, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match n.kind_name() {
        "identifier" => out.push(text(n, src).to_string()),
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
    // The usual spelling, without the copies below.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
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
fn string_value(n: Node, src: &str) -> Option<String> {
    if n.kind_name() != "string" {
        return None;
    }
    // The usual shape: `string_start`, the content, `string_end`; only an
    // f-string (or t-string) can hold an interpolation, so only those have
    // all their children looked at.
    let first = n.child(0).filter(|c| c.kind_name() == "string_start");
    let last = n.child(n.child_count().saturating_sub(1)).filter(|c| c.kind_name() == "string_end");
    let template = first.is_some_and(|s| text(s, src).bytes().any(|b| matches!(b, b'f' | b'F' | b't' | b'T')));
    let (start, end) = match (first, last) {
        (Some(start), Some(end)) if !template => (start, end),
        _ => {
            let mut start = None;
            let mut end = None;
            let mut cursor = n.walk();
            for c in n.children(&mut cursor) {
                match c.kind_name() {
                    "string_start" => start = Some(c),
                    "string_end" => end = Some(c),
                    "interpolation" => return None,
                    _ => {}
                }
            }
            (start?, end?)
        }
    };
    let opener = src.get(start.byte_range())?;
    let (mut raw, mut format) = (false, false);
    for b in opener.bytes().take_while(u8::is_ascii_alphabetic) {
        match b.to_ascii_lowercase() {
            b'b' | b't' => return None,
            b'r' => raw = true,
            b'f' => format = true,
            _ => {}
        }
    }
    let body = src.get(start.end_byte()..end.start_byte())?;
    if format {
        let body = body.replace("{{", "{").replace("}}", "}");
        return if raw { Some(body) } else { unescape(&body) };
    }
    if raw { Some(body.to_string()) } else { unescape(body) }
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

/// Flask-Script's `Server(host=...)` command object starts the server too:
/// a starter name in a module that imports Flask-Script itself (the byte
/// prefilter looks for it in the same files only).
const SCRIPT_SERVER: &str = "Server";

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
    fn imports_script(stmts: &[Stmt]) -> bool {
        stmts.iter().any(|st| match st {
            Stmt::Import { bindings, .. } => bindings.iter().any(|(_, r)| {
                r.level == 0 && (r.module.starts_with("flask_script") || r.module.starts_with("flask.ext.script"))
            }),
            Stmt::Block { branches, .. } => branches.iter().any(|(_, body)| imports_script(body)),
            _ => false,
        })
    }
    if scopes.iter().any(|s| imports_script(&s.body)) {
        names.push(SCRIPT_SERVER.to_string());
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
        Expr::IfExp { body: a, orelse: b, .. } | Expr::BoolOp { left: a, right: b, .. } => {
            mentions_starter(a, names, depth + 1) || mentions_starter(b, names, depth + 1)
        }
        _ => false,
    }
}

/// Is this callee or argument node a (possible) server start?
fn starter_node(n: Node, src: &str, names: &[String], depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match n.kind_name() {
        // `partial(app.run, host=...)()`, `Thread(target=partial(...))`.
        "call" => is_candidate_at(n, src, names, depth + 1),
        "parenthesized_expression" => n.named_child(0).is_some_and(|c| starter_node(c, src, names, depth + 1)),
        // `app.run`, or `Srv.start` where `start = partial(app.run, ...)`.
        "attribute" => n
            .field(Field::Attribute)
            .and_then(|a| src.get(a.byte_range()))
            .is_some_and(|a| SERVER_ATTRS.contains(&a) || names.iter().any(|s| s == a)),
        "identifier" => src.get(n.byte_range()).is_some_and(|t| t == "run_simple" || names.iter().any(|s| s == t)),
        _ => false,
    }
}

/// A candidate call: its callee, or one of its arguments (`Thread(target=
/// app.run)`, `executor.submit(run_simple, ...)`), may start a server.
fn is_candidate(call: Node, src: &str, names: &[String]) -> bool {
    is_candidate_at(call, src, names, 0)
}

fn is_candidate_at(call: Node, src: &str, names: &[String], depth: usize) -> bool {
    if call.field(Field::Function).is_some_and(|f| starter_node(f, src, names, depth)) {
        return true;
    }
    let Some(args) = call.field(Field::Arguments).filter(|a| a.kind_name() == "argument_list") else {
        return false;
    };
    let mut cursor = args.walk();
    args.named_children(&mut cursor).any(|a| {
        let value = if a.kind_name() == "keyword_argument" { a.field(Field::Value) } else { Some(a) };
        value.is_some_and(|v| starter_node(v, src, names, depth))
    })
}

/// Where in `src` a candidate call or a comment can be: every candidate
/// call's text holds `run` (each of [`SERVER_ATTRS`] does) or a starter
/// name, and every comment starts with `#`. Sorted offsets.
fn marks(src: &str, starters: &[String]) -> Vec<usize> {
    let bytes = src.as_bytes();
    let mut marks: Vec<usize> = memchr::memchr_iter(b'#', bytes).collect();
    marks.extend(memchr::memmem::find_iter(bytes, "run"));
    for name in starters {
        marks.extend(memchr::memmem::find_iter(bytes, name.as_bytes()));
    }
    marks.sort_unstable();
    marks
}

/// All candidate calls (anywhere: statements, lambdas, arguments...) and
/// all suppression comments, in one iterative walk of the tree. The walk
/// enters only nodes whose text holds one of the [`marks`] (a candidate or
/// a comment lies inside such nodes only), so the handlers and bodies of
/// a module that has nothing to do with servers are skipped whole: it
/// visited every node of the tree, a tenth of an audit where every file
/// is a candidate.
fn collect_calls_and_comments(
    trees: &[Tree],
    src: &str,
    scopes: &[Scope],
    starters: &[String],
    lines: &LineIndex,
) -> (Vec<RunCall>, Vec<(usize, Directives)>) {
    let mut calls = Vec::new();
    let mut comments = Vec::new();
    let marks = marks(src, starters);
    let marked = |n: Node| {
        let first = marks.partition_point(|&m| m < n.start_byte());
        marks.get(first).is_some_and(|&m| m < n.end_byte())
    };
    let mut lower = Lower { src, scopes: Vec::new() };
    for tree in trees {
        let mut cursor = tree.walk();
        let mut visit = true;
        loop {
            // Unmarked: neither it nor anything inside it is looked at.
            let enter = visit && marked(cursor.node());
            if enter {
                let n = cursor.node();
                match n.kind_name() {
                    "call" if is_candidate(n, src, starters) => {
                        if let Expr::Call(call) = lower.expr(n, 0) {
                            calls.push(RunCall { call: *call, scope: innermost_scope(scopes, n.start_byte()) });
                        }
                    }
                    "comment" => {
                        if let Some(d) = super::comments::parse(text(n, src)) {
                            comments.push((lines.line(n.start_byte()), d));
                        }
                    }
                    _ => {}
                }
            }
            // Pre-order walk: down, else right, else up (and then right).
            if (enter && cursor.goto_first_child()) || cursor.goto_next_sibling() {
                visit = true;
            } else if cursor.goto_parent() {
                visit = false;
            } else {
                break;
            }
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

    fn lowered(text: &str, parts: usize) -> String {
        let source = crate::source::decode(text.as_bytes()).expect("fixtures decode");
        format!("{:?}", parse_module_in(PathBuf::from("m.py"), source, |_| parts))
    }

    /// A module parsed in parts lowers to exactly what the whole gives:
    /// every fixture (and a few forms that must not be cut), in 2 to 5 parts.
    #[test]
    fn parts_lower_to_what_the_whole_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut texts: Vec<String> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        texts.sort();
        texts.push("s = '''\ndef in_string(): pass\n'''\nx = (1,\ny)\n@d\n# c\n@e\nclass C: pass\nif x:\n  pass\nelse:\n  pass\n".into());
        // A syntax error in one part: the whole is parsed again.
        texts.push("def f(:\n    pass\nx = 1\napp.run(host='0.0.0.0')\n".into());
        let mut cut = 0;
        for text in &texts {
            let whole = lowered(text, 1);
            for parts in 2..=5 {
                let lines = LineIndex::new(text);
                cut += usize::from(parse_trees(text, &lines, parts).len() > 1);
                assert_eq!(lowered(text, parts), whole, "{parts} parts of:\n{text}");
            }
        }
        assert!(cut > texts.len(), "most texts are cut: {cut}");
    }
}
