//! The built-in review rules (TDM codes): fast, file-local checks whose findings are almost
//! always worth reading. They run on every keystroke in the editor and over whole projects in
//! `tandem check`, so [`check_file`] makes one walk over the tree with an explicit stack (trees
//! can be thousands of levels deep) and each rule looks only at the nodes it cares about.
//!
//! The rules, their rationale and their measured precision are in `docs/rules.md`; the codes
//! and descriptions in [`catalog`]. One file per rule or small family:
//! `defaults.rs` (TDM001), `exceptions.rs` (TDM002, TDM003), `comparisons.rs` (TDM004,
//! TDM005), `fstrings.rs` (TDM006), `flow.rs` (TDM007, TDM008), `builtins.rs` (TDM009),
//! `metrics.rs` (TDM010, TDM011), `docstrings.rs` (TDM012), `unicode.rs` (TDM013, a scan of
//! the text rather than the tree). TDM020 and TDM021 need the
//! project's call graph and are computed by the project pass, not here.

mod builtins;
pub mod catalog;
mod comparisons;
mod defaults;
mod docstrings;
mod exceptions;
mod flow;
mod fstrings;
mod metrics;
mod unicode;

use crate::analysis::parse::KindStr;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use tree_sitter::{Node, Tree};

use crate::analysis::finding::{apply_noqa, CodeSelection, Finding, Fix, Severity};

/// The grammar's fields the rules read. `child_by_field_name` compares the name with every
/// field of the grammar on each call; the ids are looked up once instead.
#[derive(Debug, Clone, Copy)]
enum Field {
    Alias,
    Attribute,
    Body,
    Definition,
    Function,
    Guard,
    Left,
    ModuleName,
    Name,
    Object,
    Parameters,
    Right,
    Superclasses,
    Type,
    Value,
}

const FIELD_NAMES: [&str; 15] = [
    "alias",
    "attribute",
    "body",
    "definition",
    "function",
    "guard",
    "left",
    "module_name",
    "name",
    "object",
    "parameters",
    "right",
    "superclasses",
    "type",
    "value",
];

/// The child of `node` in a field.
fn field(node: Node<'_>, which: Field) -> Option<Node<'_>> {
    static IDS: OnceLock<[u16; 15]> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        let language = crate::analysis::parse::python_language();
        FIELD_NAMES.map(|name| language.field_id_for_name(name).map_or(0, |id| id.get()))
    });
    match ids[which as usize] {
        0 => None,
        id => node.child_by_field_id(id),
    }
}

/// What the rules need to know besides the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOptions {
    /// TDM010 reports functions whose cyclomatic complexity is above this
    /// (`review.max_complexity`).
    pub max_complexity: usize,
    /// TDM011 reports functions with more statements than this (`review.max_statements`).
    pub max_statements: usize,
    /// Which codes to report; the others are not computed where that saves work.
    pub selection: CodeSelection,
    /// The file is test code (see [`is_test_path`]): its `test*` functions, `Test*` classes and
    /// fixtures need no docstring (TDM012), and `except …: pass` is how tests tolerate an
    /// expected exception (TDM003).
    pub test_file: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            max_complexity: 10,
            max_statements: 60,
            selection: CodeSelection::default(),
            test_file: false,
        }
    }
}

/// Whether a path names test code: a test module as pytest finds them (`test_*.py`,
/// `*_test.py`), pytest's `conftest.py`, or any Python file under a `test` or `tests` folder.
pub fn is_test_path(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split(['/', '\\']).collect();
    let name = parts.pop().unwrap_or(path);
    let Some(stem) = name.strip_suffix(".py") else {
        return false;
    };
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
        || parts.iter().any(|p| matches!(*p, "test" | "tests"))
}

/// The rules of this module, in code order (TDM001 = `Rule::MutableDefault`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    MutableDefault,
    BareExcept,
    ExceptionSwallowed,
    SingletonComparison,
    AssertOnTuple,
    FStringWithoutPlaceholders,
    Unreachable,
    Redefined,
    BuiltinShadowed,
    TooComplex,
    TooManyStatements,
    MissingDocstring,
    HiddenUnicode,
}

const RULE_COUNT: usize = 13;

impl Rule {
    const ALL: [Rule; RULE_COUNT] = [
        Rule::MutableDefault,
        Rule::BareExcept,
        Rule::ExceptionSwallowed,
        Rule::SingletonComparison,
        Rule::AssertOnTuple,
        Rule::FStringWithoutPlaceholders,
        Rule::Unreachable,
        Rule::Redefined,
        Rule::BuiltinShadowed,
        Rule::TooComplex,
        Rule::TooManyStatements,
        Rule::MissingDocstring,
        Rule::HiddenUnicode,
    ];

    fn code(self) -> &'static str {
        catalog::RULES[self as usize].code
    }

    fn severity(self) -> Severity {
        catalog::RULES[self as usize].severity
    }
}

/// Runs the built-in rules on `source` (which `tree` was parsed from) and returns the selected
/// findings that no `# noqa` comment suppresses, in source order.
pub fn check_file(source: &str, tree: &Tree, opts: &RuleOptions) -> Vec<Finding> {
    check_file_observed(source, tree, opts, &mut ())
}

/// Something else that reads the tree in the same walk as the rules (a walk costs about as
/// much as the rules that run in it): told of every node with children when the walk enters
/// it, in preorder, and of every node when the walk leaves it.
pub trait WalkObserver {
    fn enter(&mut self, node: Node<'_>);
    fn leave(&mut self, node: Node<'_>);
}

impl WalkObserver for () {
    fn enter(&mut self, _: Node<'_>) {}
    fn leave(&mut self, _: Node<'_>) {}
}

/// An observer that may be absent.
impl<T: WalkObserver> WalkObserver for Option<T> {
    fn enter(&mut self, node: Node<'_>) {
        if let Some(observer) = self {
            observer.enter(node);
        }
    }

    fn leave(&mut self, node: Node<'_>) {
        if let Some(observer) = self {
            observer.leave(node);
        }
    }
}

/// The walk of `check_file` with no rule in it: only the observer reads the tree.
pub(crate) fn walk_tree(root: Node<'_>, observer: &mut impl WalkObserver) {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.child_count() > 0 {
            observer.enter(node);
            if cursor.goto_first_child() {
                continue;
            }
        }
        loop {
            observer.leave(cursor.node());
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// `check_file`, with `observer` walking along.
pub fn check_file_observed(
    source: &str,
    tree: &Tree,
    opts: &RuleOptions,
    observer: &mut impl WalkObserver,
) -> Vec<Finding> {
    let mut enabled = [false; RULE_COUNT];
    for rule in Rule::ALL {
        enabled[rule as usize] = opts.selection.is_selected(rule.code());
    }
    if !enabled.iter().any(|&on| on) {
        walk_tree(tree.root_node(), observer);
        return Vec::new();
    }
    let mut checker = Checker {
        source,
        opts,
        enabled,
        findings: Vec::new(),
        functions: Vec::new(),
        classes: docstrings::ClassFacts::default(),
        project_names: HashSet::new(),
        swallowed: Vec::new(),
    };
    checker.walk(tree.root_node(), observer);
    unicode::check(&mut checker, tree.root_node());
    metrics::report(&mut checker);
    docstrings::finish(&mut checker);
    exceptions::finish(&mut checker);
    let mut findings = checker.findings;
    apply_noqa(source, &mut findings);
    findings.sort_by(|a, b| (a.range.start, &a.code).cmp(&(b.range.start, &b.code)));
    findings
}

/// What kind of scope a node is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Module,
    Class,
    Function,
}

/// Decorators of the definition a context is for (only set for the definition directly under
/// a `decorated_definition`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Decorators {
    /// `@overload` / `@typing.overload`.
    overload: bool,
    /// `@x.setter`, `@x.getter`, `@x.deleter`.
    accessor: bool,
    /// `@override` / `@typing.override`.
    override_: bool,
    /// `@pytest.fixture`, `@fixture` (with or without arguments).
    fixture: bool,
}

/// What the walk knows about the place of a node: carried on the stack, never looked up
/// through parents (which costs a walk from the root in tree-sitter).
#[derive(Debug, Clone, Copy)]
struct Ctx {
    scope: Scope,
    /// Definitions here are public API if their own name is: the module level and the bodies
    /// of public classes outside functions.
    public: bool,
    /// The name of the innermost class whose body this is, for messages.
    class_name: Option<(usize, usize)>,
    /// The function whose cyclomatic complexity statements here add to (class bodies count
    /// towards the enclosing function, as in mccabe and ruff).
    complexity_of: Option<usize>,
    /// The function whose statement count statements here add to (a class nested in a function
    /// counts as one statement, its body as none, as in pylint and ruff).
    statements_of: Option<usize>,
    /// A string directly inside an implicit concatenation (`"a" f"b"`), judged as a whole.
    in_concatenation: bool,
    /// The name of the innermost function around, for rules that judge by it.
    function_name: Option<(usize, usize)>,
    /// Inside the arguments of a unittest assertion (`self.assertTrue(…)`).
    in_assertion_call: bool,
    decorators: Decorators,
}

impl Ctx {
    const MODULE: Ctx = Ctx {
        scope: Scope::Module,
        public: true,
        class_name: None,
        complexity_of: None,
        statements_of: None,
        in_concatenation: false,
        function_name: None,
        in_assertion_call: false,
        decorators: Decorators {
            overload: false,
            accessor: false,
            override_: false,
            fixture: false,
        },
    };

    /// The context of an ordinary child: the same scope, nothing node-specific.
    fn child(self) -> Ctx {
        Ctx {
            in_concatenation: false,
            decorators: Decorators::default(),
            ..self
        }
    }
}

/// One function's counters for TDM010 and TDM011, and where they propagate to.
#[derive(Debug, Clone)]
struct FunctionMetrics {
    name: Range<usize>,
    complexity: usize,
    statements: usize,
    complexity_parent: Option<usize>,
    statements_parent: Option<usize>,
}

struct Checker<'s> {
    source: &'s str,
    opts: &'s RuleOptions,
    enabled: [bool; RULE_COUNT],
    findings: Vec<Finding>,
    functions: Vec<FunctionMetrics>,
    classes: docstrings::ClassFacts<'s>,
    /// Names of the project's own classes: defined in the file or imported relatively (TDM003).
    project_names: HashSet<&'s str>,
    /// TDM003 findings that depend on `project_names`, known only at the end of the walk.
    swallowed: Vec<(Vec<&'s str>, Finding)>,
}

impl<'s> Checker<'s> {
    fn on(&self, rule: Rule) -> bool {
        self.enabled[rule as usize]
    }

    fn text(&self, node: Node<'_>) -> &'s str {
        self.source.get(node.byte_range()).unwrap_or("")
    }

    fn report(&mut self, rule: Rule, message: String, range: Range<usize>, fix: Option<Fix>) {
        let finding = Finding::new(rule.code(), rule.severity(), message, range);
        self.findings.push(match fix {
            Some(fix) => finding.with_fix(fix),
            None => finding,
        });
    }

    /// One depth-first walk with a single `TreeCursor` (no allocation per node) and, per level
    /// of the current path, the rule that gives each child its context: an explicit stack, so
    /// the depth of the input does not matter.
    fn walk(&mut self, root: Node<'_>, observer: &mut impl WalkObserver) {
        let mut cursor = root.walk();
        let mut levels: Vec<Children> = Vec::new();
        let mut ctx = Ctx::MODULE;
        loop {
            let node = cursor.node();
            // Leaves (names, literals, tokens) are what no rule starts from.
            if node.child_count() > 0 {
                observer.enter(node);
                let children = if node.is_named() {
                    self.visit(node, ctx)
                } else {
                    Children::Exact(ctx.child())
                };
                if cursor.goto_first_child() {
                    ctx = children.ctx_for(cursor.node());
                    levels.push(children);
                    continue;
                }
            }
            loop {
                observer.leave(cursor.node());
                if cursor.goto_next_sibling() {
                    match levels.last() {
                        Some(children) => ctx = children.ctx_for(cursor.node()),
                        None => return,
                    }
                    break;
                }
                if !cursor.goto_parent() || levels.pop().is_none() {
                    return;
                }
            }
        }
    }

    /// Runs the rules that start at `node` and says how its children get their context.
    fn visit(&mut self, node: Node<'_>, ctx: Ctx) -> Children {
        let kind = node.kind_str();
        metrics::count(self, node, kind, &ctx);
        match kind {
            "module" | "block" => flow::check_block(self, node),
            "function_definition" => return self.function(node, ctx),
            "class_definition" => return self.class(node, ctx),
            "decorated_definition" => {
                return Children::Decorated {
                    outer: ctx.child(),
                    decorators: decorators(node, self.source),
                }
            }
            "except_clause" => exceptions::check(self, node, &ctx),
            "import_from_statement" => exceptions::learn_import(self, node),
            "comparison_operator" => comparisons::check_singleton(self, node, &ctx),
            "call" if is_assertion_call(node, self.source) => {
                return Children::Exact(Ctx {
                    in_assertion_call: true,
                    ..ctx.child()
                })
            }
            "assert_statement" => comparisons::check_assert(self, node),
            "string" if !ctx.in_concatenation && !ctx.in_assertion_call => {
                fstrings::check(self, &[node])
            }
            "concatenated_string" if !ctx.in_assertion_call => {
                let mut cursor = node.walk();
                let parts: Vec<Node<'_>> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind_str() == "string")
                    .collect();
                fstrings::check(self, &parts);
                return Children::Exact(Ctx {
                    in_concatenation: true,
                    ..ctx.child()
                });
            }
            "assignment" if ctx.scope != Scope::Class => builtins::check_target(
                self,
                field(node, Field::Left),
                field(node, Field::Right),
                "Variable",
            ),
            "for_statement" if ctx.scope != Scope::Class => {
                builtins::check_target(self, field(node, Field::Left), None, "Loop variable")
            }
            "named_expression" if ctx.scope != Scope::Class => {
                builtins::check_target(self, field(node, Field::Name), None, "Variable")
            }
            _ => {}
        }
        Children::Exact(ctx.child())
    }

    fn function(&mut self, def: Node<'_>, ctx: Ctx) -> Children {
        let index = metrics::enter_function(self, def, &ctx);
        defaults::check(self, def);
        builtins::check_parameters(self, def);
        docstrings::check(self, def, &ctx);
        let Some(body) = field(def, Field::Body) else {
            return Children::Exact(ctx.child());
        };
        Children::Body {
            body: body.id(),
            inner: Ctx {
                scope: Scope::Function,
                public: false,
                class_name: None,
                function_name: field(def, Field::Name).map(|n| (n.start_byte(), n.end_byte())),
                in_assertion_call: false,
                complexity_of: index.or(ctx.complexity_of),
                statements_of: index.or(ctx.statements_of),
                in_concatenation: false,
                decorators: Decorators::default(),
            },
            // Defaults, annotations and decorators are evaluated in the enclosing scope.
            outer: ctx.child(),
        }
    }

    fn class(&mut self, def: Node<'_>, ctx: Ctx) -> Children {
        docstrings::check(self, def, &ctx);
        let name = field(def, Field::Name);
        if let Some(text) = name.and_then(|n| self.source.get(n.byte_range())) {
            self.project_names.insert(text);
        }
        let public = ctx.public && name.is_some_and(|n| !self.text(n).starts_with('_'));
        let Some(body) = field(def, Field::Body) else {
            return Children::Exact(ctx.child());
        };
        Children::Body {
            body: body.id(),
            inner: Ctx {
                scope: Scope::Class,
                public,
                class_name: name.map(|n| (n.start_byte(), n.end_byte())),
                complexity_of: ctx.complexity_of,
                statements_of: None,
                in_concatenation: false,
                function_name: None,
                in_assertion_call: false,
                decorators: Decorators::default(),
            },
            outer: ctx.child(),
        }
    }
}

/// How the children of a node get their context during the walk.
#[derive(Debug, Clone, Copy)]
enum Children {
    /// Every child gets this context.
    Exact(Ctx),
    /// The body of a function or class (by node id) gets `inner`, the other children `outer`.
    Body { body: usize, inner: Ctx, outer: Ctx },
    /// The definition under decorators learns them; the decorators get `outer`.
    Decorated { outer: Ctx, decorators: Decorators },
}

impl Children {
    fn ctx_for(&self, child: Node<'_>) -> Ctx {
        match *self {
            Children::Exact(ctx) => ctx,
            Children::Body { body, inner, outer } => {
                if child.id() == body {
                    inner
                } else {
                    outer
                }
            }
            Children::Decorated { outer, decorators } => {
                if child.kind_str() == "decorator" {
                    outer
                } else {
                    Ctx {
                        decorators,
                        ..outer
                    }
                }
            }
        }
    }
}

/// A call of a unittest assertion method: `self.assertTrue(…)`, `assertEqual(…)`.
fn is_assertion_call(call: Node<'_>, source: &str) -> bool {
    field(call, Field::Function).is_some_and(|f| {
        let name = match f.kind_str() {
            "attribute" => field(f, Field::Attribute),
            "identifier" => Some(f),
            _ => None,
        };
        name.and_then(|n| source.get(n.byte_range()))
            .is_some_and(|n| n.starts_with("assert"))
    })
}

/// The statements of a block or module: named children that are not comments.
fn statements(block: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .filter(|c| !c.is_extra())
        .collect()
}

/// The decorators of a `decorated_definition` that some rule cares about.
fn decorators(decorated: Node<'_>, source: &str) -> Decorators {
    let mut found = Decorators::default();
    let mut cursor = decorated.walk();
    for decorator in decorated
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() == "decorator")
    {
        let name = decorator_name(decorator, source);
        let last = name.rsplit('.').next().unwrap_or(name);
        match last {
            "overload" => found.overload = true,
            "override" => found.override_ = true,
            "fixture" => found.fixture = true,
            "setter" | "getter" | "deleter" if name.contains('.') => found.accessor = true,
            _ => {}
        }
    }
    found
}

/// The dotted name a decorator applies, without call arguments: `functools.wraps` for
/// `@functools.wraps(f)`.
fn decorator_name<'s>(decorator: Node<'_>, source: &'s str) -> &'s str {
    let Some(mut expr) = decorator.named_child(0) else {
        return "";
    };
    if expr.kind_str() == "call" {
        if let Some(function) = field(expr, Field::Function) {
            expr = function;
        }
    }
    source.get(expr.byte_range()).unwrap_or("").trim()
}

/// Whether the first statement of a definition's body is a string literal (a docstring).
fn has_docstring(def: Node<'_>) -> bool {
    let Some(body) = field(def, Field::Body) else {
        return false;
    };
    let mut cursor = body.walk();
    let Some(first) = body.named_children(&mut cursor).find(|c| !c.is_extra()) else {
        return false;
    };
    first.kind_str() == "expression_statement"
        && first.named_child_count() == 1
        && first
            .named_child(0)
            .is_some_and(|s| matches!(s.kind_str(), "string" | "concatenated_string"))
}

/// The byte offset where the line holding `offset` starts.
fn line_start(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1)
}

/// The 1-based line of a node, for messages.
fn line_of(node: Node<'_>) -> usize {
    node.start_position().row + 1
}

/// Shortens source text for a message: the first line, at most `max` characters.
fn excerpt(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let multi = text.contains('\n');
    if first.chars().count() > max {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}…")
    } else if multi {
        format!("{first}…")
    } else {
        first.to_string()
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the rules' tests: run one rule on a snippet, apply a fix.

    use super::*;
    use crate::analysis::parse::parse_str;

    /// The findings of the codes starting with `code` in `source`, with default options.
    pub fn findings(code: &str, source: &str) -> Vec<Finding> {
        findings_with(code, source, RuleOptions::default())
    }

    pub fn findings_with(code: &str, source: &str, mut opts: RuleOptions) -> Vec<Finding> {
        opts.selection = CodeSelection::parse(&[code.to_string()], &[]).unwrap();
        let tree = parse_str(source, None);
        check_file(source, &tree, &opts)
    }

    /// The text each finding of `code` is about.
    pub fn flagged<'s>(code: &str, source: &'s str) -> Vec<&'s str> {
        findings(code, source)
            .into_iter()
            .map(|f| &source[f.range])
            .collect()
    }

    /// Applies the fix of the only finding of `code`; checks that the result parses without
    /// errors and that the rule no longer fires there.
    pub fn fixed(code: &str, source: &str) -> String {
        let found = findings(code, source);
        assert_eq!(found.len(), 1, "{found:#?}");
        let fix = found[0].fix.as_ref().expect("a fix");
        let out = fix.apply(source).expect("the edits apply");
        let tree = parse_str(&out, None);
        assert!(!tree.root_node().has_error(), "does not parse:\n{out}");
        assert!(findings(code, &out).is_empty(), "still fires:\n{out}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::analysis::parse::parse_str;

    #[test]
    fn test_paths_are_recognised_by_file_name() {
        assert!(is_test_path("tests/test_cart.py"));
        assert!(is_test_path("cart_test.py"));
        assert!(is_test_path("tests/conftest.py"));
        assert!(is_test_path("a\\b\\test_x.py"));
        assert!(is_test_path("Lib/test/datetimetester.py"));
        assert!(!is_test_path("src/testing.py"));
        assert!(!is_test_path("src/tests.py"));
        assert!(!is_test_path("src/test_data.json"));
        assert!(!is_test_path("contest.py"));
    }

    #[test]
    fn findings_are_sorted_and_selected_by_prefix() {
        let source = "def f(x=[]):\n    x.append(1)\n    return x == None\n";
        let all = findings("TDM", source);
        let codes: Vec<&str> = all.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["TDM012", "TDM001", "TDM004"]);
        assert_eq!(findings("TDM004", source).len(), 1);
        let opts = RuleOptions {
            selection: CodeSelection::parse(&[], &["TDM0".into()]).unwrap(),
            ..RuleOptions::default()
        };
        let tree = parse_str(source, None);
        assert!(check_file(source, &tree, &opts).is_empty());
    }

    #[test]
    fn noqa_suppresses_on_the_first_line_of_the_finding() {
        let source = "def f(x=[]):  # noqa: TDM001\n    return x == None  # noqa\n";
        let codes: Vec<String> = findings("TDM", source)
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, ["TDM012"]);
        let source = "def f(x=[]):  # noqa: TDM004\n    return x\n";
        assert_eq!(findings("TDM001", source).len(), 1);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 10_000;
        let mut source = String::from("x = ");
        source.push_str(&"[".repeat(depth));
        source.push_str("None == None");
        source.push_str(&"]".repeat(depth));
        source.push('\n');
        let mut blocks = String::new();
        for i in 0..2_000 {
            blocks.push_str(&" ".repeat(i));
            blocks.push_str("if x:\n");
        }
        blocks.push_str(&" ".repeat(2_000));
        blocks.push_str("pass\n");
        let tree = parse_str(&source, None);
        let _ = check_file(&source, &tree, &RuleOptions::default());
        let tree = parse_str(&blocks, None);
        let _ = check_file(&blocks, &tree, &RuleOptions::default());
    }

    #[test]
    fn broken_and_odd_inputs_do_not_panic() {
        for source in [
            "",
            "def",
            "def f(x=[]:\n",
            "class C(:\n  def",
            "except:\n pass",
            "f'{'",
            "return\nx",
            "def f(x=[]): return x",
            "def f(x=[]):\n\"\"\"d\"\"\"; y = 1\n",
            "async def f(list=[]):\n    try: pass\n    except: pass\n",
            "\u{feff}x == None\r\n",
            "é = [f'''{{]''']",
        ] {
            let tree = parse_str(source, None);
            for f in check_file(source, &tree, &RuleOptions::default()) {
                assert!(f.range.end <= source.len());
                if let Some(fix) = &f.fix {
                    let _ = fix.apply(source);
                }
            }
        }
    }
}
