//! One walk over a module's tree-sitter tree, turning it into `ModuleFacts`.
//!
//! The walk is a recursive descent over statements and expressions, so that each expression can
//! return the node holding its value. Recursion depth is bounded by `MAX_DEPTH`: a subtree
//! nested deeper than that is skipped (its value is unknown), which no real program reaches
//! (CPython itself refuses 100 levels of indentation and 200 levels of parentheses) and which
//! keeps hostile input such as 10,000 nested brackets from overflowing the stack. Chains that
//! real code does make long (`a + b + c + …`, string concatenations) are walked iteratively.
//!
//! Variables are tracked flow-sensitively inside each scope: `Flow` maps each name to the node
//! of its reaching definition, with an undo log so branches can be walked one after the other
//! and merged without copying the map. Loops give reads of names defined before the loop a phi
//! node, which the loop's later definitions flow into when the loop ends.

use std::sync::OnceLock;

use tree_sitter::Language;

use super::facts::*;
use super::simplify;
use super::util::{FxMap, Interner, StringTable};
use super::SourceModule;
use crate::analysis::flat::{FNode as TsNode, FlatTree};
use crate::analysis::parse::python_language;

/// How deeply statements and expressions may nest before the walk stops descending.
const MAX_DEPTH: u32 = 256;

/// Container literals longer than this keep their elements in one "any index" slot: exact
/// positions matter for short tuples and tables of callables, not for data tables.
const MAX_EXACT_ELEMENTS: usize = 64;

/// String literals longer than this are "some string": exact values matter for keys and
/// attribute names, which are short.
const MAX_EXACT_STRING: usize = 64;

/// Node kind and field ids of the Python grammar, looked up once.
struct K {
    // statements
    module: u16,
    block: u16,
    expression_statement: u16,
    assignment: u16,
    augmented_assignment: u16,
    return_statement: u16,
    raise_statement: u16,
    break_statement: u16,
    continue_statement: u16,
    if_statement: u16,
    elif_clause: u16,
    else_clause: u16,
    for_statement: u16,
    while_statement: u16,
    try_statement: u16,
    except_clause: u16,
    finally_clause: u16,
    with_statement: u16,
    with_clause: u16,
    with_item: u16,
    match_statement: u16,
    case_clause: u16,
    function_definition: u16,
    class_definition: u16,
    decorated_definition: u16,
    decorator: u16,
    import_statement: u16,
    import_from_statement: u16,
    future_import_statement: u16,
    aliased_import: u16,
    dotted_name: u16,
    import_prefix: u16,
    wildcard_import: u16,
    global_statement: u16,
    nonlocal_statement: u16,
    delete_statement: u16,
    pass_statement: u16,
    type_alias_statement: u16,
    comment: u16,
    // expressions
    identifier: u16,
    attribute: u16,
    call: u16,
    argument_list: u16,
    keyword_argument: u16,
    list_splat: u16,
    dictionary_splat: u16,
    parenthesized_list_splat: u16,
    subscript: u16,
    slice: u16,
    string: u16,
    concatenated_string: u16,
    interpolation: u16,
    string_start: u16,
    string_content: u16,
    integer: u16,
    float: u16,
    list: u16,
    tuple: u16,
    set: u16,
    dictionary: u16,
    pair: u16,
    list_comprehension: u16,
    set_comprehension: u16,
    dictionary_comprehension: u16,
    generator_expression: u16,
    for_in_clause: u16,
    if_clause: u16,
    lambda: u16,
    conditional_expression: u16,
    boolean_operator: u16,
    binary_operator: u16,
    unary_operator: u16,
    parenthesized_expression: u16,
    named_expression: u16,
    await_: u16,
    yield_: u16,
    expression_list: u16,
    pattern_list: u16,
    tuple_pattern: u16,
    list_pattern: u16,
    list_splat_pattern: u16,
    dictionary_splat_pattern: u16,
    as_pattern: u16,
    as_pattern_target: u16,
    default_parameter: u16,
    typed_parameter: u16,
    typed_default_parameter: u16,
    keyword_separator: u16,
    type_: u16,
    case_pattern: u16,
    // fields
    f_left: u16,
    f_right: u16,
    f_name: u16,
    f_value: u16,
    f_body: u16,
    f_parameters: u16,
    f_function: u16,
    f_arguments: u16,
    f_object: u16,
    f_attribute: u16,
    f_subscript: u16,
    f_condition: u16,
    f_consequence: u16,
    f_alternative: u16,
    f_definition: u16,
    f_superclasses: u16,
    f_key: u16,
    f_alias: u16,
    f_module_name: u16,
    f_cause: u16,
    f_subject: u16,
    f_guard: u16,
    f_operator: u16,
    f_argument: u16,
}

impl K {
    fn new(lang: &Language) -> K {
        let k = |name: &str| lang.id_for_node_kind(name, true);
        let f = |name: &str| {
            lang.field_id_for_name(name)
                .map_or(0, std::num::NonZeroU16::get)
        };
        K {
            module: k("module"),
            block: k("block"),
            expression_statement: k("expression_statement"),
            assignment: k("assignment"),
            augmented_assignment: k("augmented_assignment"),
            return_statement: k("return_statement"),
            raise_statement: k("raise_statement"),
            break_statement: k("break_statement"),
            continue_statement: k("continue_statement"),
            if_statement: k("if_statement"),
            elif_clause: k("elif_clause"),
            else_clause: k("else_clause"),
            for_statement: k("for_statement"),
            while_statement: k("while_statement"),
            try_statement: k("try_statement"),
            except_clause: k("except_clause"),
            finally_clause: k("finally_clause"),
            with_statement: k("with_statement"),
            with_clause: k("with_clause"),
            with_item: k("with_item"),
            match_statement: k("match_statement"),
            case_clause: k("case_clause"),
            function_definition: k("function_definition"),
            class_definition: k("class_definition"),
            decorated_definition: k("decorated_definition"),
            decorator: k("decorator"),
            import_statement: k("import_statement"),
            import_from_statement: k("import_from_statement"),
            future_import_statement: k("future_import_statement"),
            aliased_import: k("aliased_import"),
            dotted_name: k("dotted_name"),
            import_prefix: k("import_prefix"),
            wildcard_import: k("wildcard_import"),
            global_statement: k("global_statement"),
            nonlocal_statement: k("nonlocal_statement"),
            delete_statement: k("delete_statement"),
            pass_statement: k("pass_statement"),
            type_alias_statement: k("type_alias_statement"),
            comment: k("comment"),
            identifier: k("identifier"),
            attribute: k("attribute"),
            call: k("call"),
            argument_list: k("argument_list"),
            keyword_argument: k("keyword_argument"),
            list_splat: k("list_splat"),
            dictionary_splat: k("dictionary_splat"),
            parenthesized_list_splat: k("parenthesized_list_splat"),
            subscript: k("subscript"),
            slice: k("slice"),
            string: k("string"),
            concatenated_string: k("concatenated_string"),
            interpolation: k("interpolation"),
            string_start: k("string_start"),
            string_content: k("string_content"),
            integer: k("integer"),
            float: k("float"),
            list: k("list"),
            tuple: k("tuple"),
            set: k("set"),
            dictionary: k("dictionary"),
            pair: k("pair"),
            list_comprehension: k("list_comprehension"),
            set_comprehension: k("set_comprehension"),
            dictionary_comprehension: k("dictionary_comprehension"),
            generator_expression: k("generator_expression"),
            for_in_clause: k("for_in_clause"),
            if_clause: k("if_clause"),
            lambda: k("lambda"),
            conditional_expression: k("conditional_expression"),
            boolean_operator: k("boolean_operator"),
            binary_operator: k("binary_operator"),
            unary_operator: k("unary_operator"),
            parenthesized_expression: k("parenthesized_expression"),
            named_expression: k("named_expression"),
            await_: k("await"),
            yield_: k("yield"),
            expression_list: k("expression_list"),
            pattern_list: k("pattern_list"),
            tuple_pattern: k("tuple_pattern"),
            list_pattern: k("list_pattern"),
            list_splat_pattern: k("list_splat_pattern"),
            dictionary_splat_pattern: k("dictionary_splat_pattern"),
            as_pattern: k("as_pattern"),
            as_pattern_target: k("as_pattern_target"),
            default_parameter: k("default_parameter"),
            typed_parameter: k("typed_parameter"),
            typed_default_parameter: k("typed_default_parameter"),
            keyword_separator: k("keyword_separator"),
            type_: k("type"),
            case_pattern: k("case_pattern"),
            f_left: f("left"),
            f_right: f("right"),
            f_name: f("name"),
            f_value: f("value"),
            f_body: f("body"),
            f_parameters: f("parameters"),
            f_function: f("function"),
            f_arguments: f("arguments"),
            f_object: f("object"),
            f_attribute: f("attribute"),
            f_subscript: f("subscript"),
            f_condition: f("condition"),
            f_consequence: f("consequence"),
            f_alternative: f("alternative"),
            f_definition: f("definition"),
            f_superclasses: f("superclasses"),
            f_key: f("key"),
            f_alias: f("alias"),
            f_module_name: f("module_name"),
            f_cause: f("cause"),
            f_subject: f("subject"),
            f_guard: f("guard"),
            f_operator: f("operator"),
            f_argument: f("argument"),
        }
    }
}

fn kinds() -> &'static K {
    static KINDS: OnceLock<K> = OnceLock::new();
    KINDS.get_or_init(|| K::new(&python_language()))
}

/// The reaching definitions of one scope's names, with an undo log for branches.
#[derive(Default)]
struct Flow {
    map: FxMap<Sym, NodeId>,
    log: Vec<(Sym, Option<NodeId>)>,
    /// The code here cannot be reached (after `return`, `raise`, `break`, `continue`).
    dead: bool,
}

#[derive(Clone, Copy)]
struct Mark {
    log: usize,
    dead: bool,
}

/// The state of one branch when it ended: the names it changed and their nodes.
struct BranchOut {
    changes: Vec<(Sym, NodeId)>,
    dead: bool,
}

impl Flow {
    fn get(&self, sym: Sym) -> Option<NodeId> {
        self.map.get(&sym).copied()
    }

    fn set(&mut self, sym: Sym, node: NodeId) {
        let old = self.map.insert(sym, node);
        self.log.push((sym, old));
    }

    fn mark(&self) -> Mark {
        Mark {
            log: self.log.len(),
            dead: self.dead,
        }
    }

    fn rollback(&mut self, mark: Mark) {
        while self.log.len() > mark.log {
            if let Some((sym, old)) = self.log.pop() {
                match old {
                    Some(node) => {
                        self.map.insert(sym, node);
                    }
                    None => {
                        self.map.remove(&sym);
                    }
                }
            }
        }
        self.dead = mark.dead;
    }

    /// Ends a branch: returns what it changed and restores the state at `mark`.
    fn take(&mut self, mark: Mark) -> BranchOut {
        let mut changes: Vec<(Sym, NodeId)> = Vec::new();
        let log = &self.log[mark.log.min(self.log.len())..];
        // Each name once, at its first entry: few names are looked for by a linear search,
        // which costs less than a set (an empty map does not allocate).
        let mut seen: FxMap<Sym, ()> = FxMap::default();
        for (i, &(sym, _)) in log.iter().enumerate() {
            let first = if log.len() <= SHORT_LOG {
                log[..i].iter().all(|&(s, _)| s != sym)
            } else {
                seen.insert(sym, ()).is_none()
            };
            if first {
                if let Some(node) = self.get(sym) {
                    changes.push((sym, node));
                }
            }
        }
        let out = BranchOut {
            changes,
            dead: self.dead,
        };
        self.rollback(mark);
        out
    }
}

/// Branch logs up to this long are deduplicated by linear search.
const SHORT_LOG: usize = 16;

/// Collects the definitions made inside a loop or a `try` body.
struct Recorder {
    is_loop: bool,
    /// The first node created inside the loop: older nodes were defined before it.
    first: NodeId,
    /// Phi nodes at the loop head, by name.
    phis: Vec<(Sym, NodeId)>,
    defs: Vec<(Sym, NodeId)>,
}

/// A scope being walked.
struct Frame {
    def: DefIdx,
    flow: Flow,
    recorders: Vec<Recorder>,
    /// Loop phis (and placeholders, owned by `OUTSIDE`) with the recorder that owns them.
    phi_owner: FxMap<NodeId, u32>,
}

const OUTSIDE: u32 = u32::MAX;

#[derive(Default)]
struct VarInfo {
    versions: Vec<NodeId>,
    /// Values written from other scopes (`global`, `nonlocal`).
    remote: Option<NodeId>,
    /// The union of all versions, made when some other scope reads the variable.
    all: Option<NodeId>,
    /// Assigned in this scope (so a function's reads of it are local).
    local: bool,
}

#[derive(Default)]
struct ScopeInfo {
    vars: FxMap<Sym, VarInfo>,
    globals: Vec<Sym>,
    nonlocals: Vec<Sym>,
    lambdas: u32,
    statics: Vec<(Sym, StaticBinding)>,
}

/// How an assignment target binds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bind {
    Normal,
    /// A comprehension variable: visible only inside the comprehension.
    Comprehension,
}

struct Ex<'a, 't> {
    src: &'a str,
    k: &'static K,
    pool: Vec<Vec<TsNode<'t>>>,
    fielded_pool: Vec<Vec<(TsNode<'t>, u16)>>,
    strings: Interner,
    module_name: &'a str,
    is_package: bool,
    next_node: u32,
    num_allocs: u32,
    ops: Vec<Op>,
    args: Vec<Arg>,
    sites: Vec<SiteFact>,
    defs: Vec<DefFact>,
    scopes: Vec<ScopeInfo>,
    frames: Vec<Frame>,
    free_reads: Vec<(NodeId, Sym, DefIdx)>,
    nonlocal_reads: Vec<(NodeId, Sym, DefIdx)>,
    nonlocal_writes: Vec<(NodeId, Sym, DefIdx)>,
    literal_elems: FxMap<NodeId, Vec<NodeId>>,
    star_imports: Vec<Sym>,
    all_names: Option<Vec<Sym>>,
    const_nodes: FxMap<(DefIdx, Const), NodeId>,
    /// Subscript paths (`d["a"]["b"]`) by base version and keys; their ids are flow keys with
    /// `PATH_BIT` set.
    paths: FxMap<(NodeId, Vec<Const>), u32>,
    paths_of: FxMap<NodeId, Vec<(u32, usize)>>,
    /// Literal dictionaries: their constant keys and value nodes.
    literal_dicts: FxMap<NodeId, Vec<(Const, NodeId)>>,
    /// (class, attribute) for each `self.attribute = …` in a method.
    self_attrs: Vec<(DefIdx, Sym)>,
    /// The definition each node, op and allocation belongs to (`IFACE` for interface nodes);
    /// see `canonical_layout`.
    node_owner: Vec<u32>,
    op_owner: Vec<u32>,
    alloc_owner: Vec<u32>,
    /// Interface nodes: (node, kind, definition, name or index).
    iface: Vec<(NodeId, u8, DefIdx, Sym)>,
    /// The last attribute expression walked and its `attribute` field, so that a call does
    /// not look up again the field of the callee it has just walked.
    last_attribute: Option<(usize, Option<TsNode<'t>>)>,
    /// When not NONE, the owner of new nodes and ops instead of the current scope.
    owner: u32,
    depth: u32,
}

/// The owner of interface nodes.
const IFACE: u32 = u32::MAX - 1;

/// Marks flow keys that are subscript paths rather than names.
const PATH_BIT: u32 = 1 << 31;

/// Extracts the facts of one module, without what can never influence the call graph
/// (`simplify`).
pub(crate) fn extract(module: &SourceModule<'_>) -> ModuleFacts {
    extract_with(module, &FlatTree::new(module.tree))
}

/// `extract`, reading the flat copy `flat` of the module's tree.
pub(crate) fn extract_with(module: &SourceModule<'_>, flat: &FlatTree) -> ModuleFacts {
    let mut facts = extract_unsimplified_with(module, flat);
    simplify::simplify(&mut facts);
    // Kept for the life of the index: give back what the ops, arguments and sites that
    // `simplify` removed left unused (standard library peak 458-459 -> 452-454 MiB, two
    // interleaved runs of `tandem-bench index-memory-child DIR DIR` each).
    facts.ops.shrink_to_fit();
    facts.args.shrink_to_fit();
    facts.sites.shrink_to_fit();
    facts
}

/// The facts of one module as the walk makes them.
#[cfg(test)]
pub(super) fn extract_unsimplified(module: &SourceModule<'_>) -> ModuleFacts {
    extract_unsimplified_with(module, &FlatTree::new(module.tree))
}

fn extract_unsimplified_with(module: &SourceModule<'_>, flat: &FlatTree) -> ModuleFacts {
    let root = flat.root();
    let mut ex = Ex {
        src: module.source,
        k: kinds(),
        pool: Vec::new(),
        fielded_pool: Vec::new(),
        strings: Interner::default(),
        module_name: module.name,
        is_package: module.is_package,
        next_node: 0,
        num_allocs: 0,
        ops: Vec::new(),
        args: Vec::new(),
        sites: Vec::new(),
        defs: Vec::new(),
        scopes: Vec::new(),
        frames: Vec::new(),
        free_reads: Vec::new(),
        nonlocal_reads: Vec::new(),
        nonlocal_writes: Vec::new(),
        literal_elems: FxMap::default(),
        star_imports: Vec::new(),
        all_names: None,
        const_nodes: FxMap::default(),
        paths: FxMap::default(),
        paths_of: FxMap::default(),
        literal_dicts: FxMap::default(),
        self_attrs: Vec::new(),
        node_owner: Vec::new(),
        op_owner: Vec::new(),
        alloc_owner: Vec::new(),
        iface: Vec::new(),
        last_attribute: None,
        owner: NONE,
        depth: 0,
    };
    let ret = ex.new_node();
    ex.mark_iface(ret, IF_RET, 0, 0);
    ex.defs.push(DefFact::new(
        DefKind::Module,
        module.name.into(),
        NONE,
        (root.start_byte() as u32, root.end_byte() as u32),
        (0, 0),
        ret,
    ));
    ex.scopes.push(ScopeInfo::default());
    ex.push_frame(0);
    ex.block(root);
    ex.frames.pop();
    ex.finish()
}

impl<'a, 't> Ex<'a, 't> {
    // ----- small helpers -------------------------------------------------------------------

    fn new_node(&mut self) -> NodeId {
        let n = self.next_node;
        self.next_node += 1;
        let owner = self.owner_now();
        self.node_owner.push(owner);
        n
    }

    fn owner_now(&self) -> u32 {
        if self.owner != NONE {
            self.owner
        } else {
            self.cur_def()
        }
    }

    /// Marks `n` as an interface node: one that other definitions and modules refer to
    /// (parameters, returns, module globals, class attributes, captured variables).
    fn mark_iface(&mut self, n: NodeId, kind: u8, def: DefIdx, key: u32) {
        if let Some(o) = self.node_owner.get_mut(n as usize) {
            *o = IFACE;
        }
        self.iface.push((n, kind, def, key));
    }

    fn text(&self, n: TsNode<'_>) -> &'a str {
        self.src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    fn sym(&mut self, n: TsNode<'_>) -> Sym {
        let text = self.text(n);
        self.strings.intern(text)
    }

    /// The children of `n` (named only, comments skipped when `named`), as a cursor visits
    /// them, in a pooled vector that the caller hands back with `recycle`; children are
    /// collected before any recursion.
    fn children(&mut self, n: TsNode<'t>, named: bool) -> Vec<TsNode<'t>> {
        let mut out = self.pool.pop().unwrap_or_default();
        if named {
            let comment = self.k.comment;
            out.extend(
                n.children()
                    .filter(|c| c.is_named() && c.kind_id() != comment),
            );
        } else {
            out.extend(n.children());
        }
        out
    }

    /// The named children of `n` (comments skipped) with their field ids, in a pooled vector
    /// that the caller hands back with `recycle_fielded`.
    fn fielded_children(&mut self, n: TsNode<'t>) -> Vec<(TsNode<'t>, u16)> {
        let mut out = self.fielded_pool.pop().unwrap_or_default();
        let comment = self.k.comment;
        out.extend(
            n.children()
                .filter(|c| c.is_named() && c.kind_id() != comment)
                .map(|c| (c, c.field_id())),
        );
        out
    }

    fn recycle(&mut self, mut v: Vec<TsNode<'t>>) {
        v.clear();
        if self.pool.len() < 64 {
            self.pool.push(v);
        }
    }

    fn recycle_fielded(&mut self, mut v: Vec<(TsNode<'t>, u16)>) {
        v.clear();
        if self.fielded_pool.len() < 64 {
            self.fielded_pool.push(v);
        }
    }

    fn field(&self, n: TsNode<'t>, field: u16) -> Option<TsNode<'t>> {
        n.child_by_field_id(field)
    }

    /// The first named child of `n` that is not a comment.
    fn first_named(&mut self, n: TsNode<'t>) -> Option<TsNode<'t>> {
        let comment = self.k.comment;
        n.children()
            .find(|c| c.is_named() && c.kind_id() != comment)
    }

    fn op(&mut self, op: Op) {
        self.ops.push(op);
        let owner = self.owner_now();
        self.op_owner.push(owner);
    }

    fn copy(&mut self, dst: NodeId, src: NodeId) {
        if dst != NONE && src != NONE && dst != src {
            self.op(Op::Copy { dst, src });
        }
    }

    fn cur_def(&self) -> DefIdx {
        self.frames.last().map_or(0, |f| f.def)
    }

    fn frame(&mut self) -> &mut Frame {
        // There is always a frame while walking: the module's is pushed first and popped last.
        let last = self.frames.len().saturating_sub(1);
        &mut self.frames[last]
    }

    fn site(&mut self, n: TsNode<'_>) -> SiteIdx {
        self.site_range(n.start_byte(), n.end_byte())
    }

    fn site_range(&mut self, start: usize, end: usize) -> SiteIdx {
        let caller = self.cur_def();
        self.sites.push(SiteFact {
            start: start as u32,
            end: end as u32,
            caller,
        });
        (self.sites.len() - 1) as SiteIdx
    }

    /// The node of a literal, one per literal per definition (so that definitions stay
    /// independent of each other).
    fn const_node(&mut self, c: Const) -> NodeId {
        let key = (self.owner_now(), c);
        if let Some(&n) = self.const_nodes.get(&key) {
            return n;
        }
        let n = self.new_node();
        self.op(Op::Const { dst: n, c });
        self.const_nodes.insert(key, n);
        n
    }

    fn phi(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (a, b) {
            (NONE, x) | (x, NONE) => x,
            _ if a == b => a,
            _ => {
                let n = self.new_node();
                self.copy(n, a);
                self.copy(n, b);
                n
            }
        }
    }

    fn push_frame(&mut self, def: DefIdx) {
        self.frames.push(Frame {
            def,
            flow: Flow::default(),
            recorders: Vec::new(),
            phi_owner: FxMap::default(),
        });
    }

    fn new_def(
        &mut self,
        kind: DefKind,
        qualname: String,
        n: TsNode<'_>,
        name: Option<TsNode<'_>>,
    ) -> DefIdx {
        let ret = self.new_node();
        let def = self.defs.len() as DefIdx;
        self.mark_iface(ret, IF_RET, def, 0);
        let parent = self.cur_def();
        let name_range = name.map_or((n.start_byte() as u32, n.start_byte() as u32), |m| {
            (m.start_byte() as u32, m.end_byte() as u32)
        });
        self.defs.push(DefFact::new(
            kind,
            qualname.into(),
            parent,
            (n.start_byte() as u32, n.end_byte() as u32),
            name_range,
            ret,
        ));
        self.scopes.push(ScopeInfo::default());
        (self.defs.len() - 1) as DefIdx
    }

    fn add_static(&mut self, sym: Sym, binding: StaticBinding) {
        let def = self.cur_def() as usize;
        if let Some(scope) = self.scopes.get_mut(def) {
            scope.statics.push((sym, binding));
        }
    }

    // ----- variables -----------------------------------------------------------------------

    fn scope_declares(&self, def: DefIdx, sym: Sym) -> (bool, bool) {
        self.scopes.get(def as usize).map_or((false, false), |s| {
            (s.globals.contains(&sym), s.nonlocals.contains(&sym))
        })
    }

    fn module_var_all(&mut self, sym: Sym) -> NodeId {
        if let Some(all) = self.scopes[0].vars.get(&sym).and_then(|v| v.all) {
            return all;
        }
        let n = self.new_node();
        self.mark_iface(n, IF_ALL, 0, sym);
        let var = self.scopes[0].vars.entry(sym).or_default();
        var.all = Some(n);
        var.local = true;
        n
    }

    fn module_var_remote(&mut self, sym: Sym) -> NodeId {
        if let Some(remote) = self.scopes[0].vars.get(&sym).and_then(|v| v.remote) {
            return remote;
        }
        let n = self.new_node();
        self.mark_iface(n, IF_REMOTE, 0, sym);
        let var = self.scopes[0].vars.entry(sym).or_default();
        var.remote = Some(n);
        var.local = true;
        n
    }

    /// The node holding a name's value where it is read.
    fn read(&mut self, sym: Sym) -> NodeId {
        let def = self.cur_def();
        let (global, nonlocal) = self.scope_declares(def, sym);
        if global {
            return self.module_var_all(sym);
        }
        if nonlocal {
            let p = self.new_node();
            self.nonlocal_reads.push((p, sym, def));
            return p;
        }
        let cur = match self.frame().flow.get(sym) {
            Some(n) => n,
            None => {
                // No definition reaches here: the name is free (or not yet bound). The
                // placeholder is resolved when the module ends and the scopes are known.
                let p = self.new_node();
                self.free_reads.push((p, sym, def));
                let frame = self.frame();
                frame.phi_owner.insert(p, OUTSIDE);
                frame.flow.set(sym, p);
                p
            }
        };
        if self.frame().recorders.iter().any(|r| r.is_loop) {
            self.loop_phi(sym, cur)
        } else {
            cur
        }
    }

    /// Gives a read inside loops the definitions made later in the loops' bodies (they reach
    /// the read through the back edge): a phi at the head of each loop the definition comes
    /// from outside of.
    fn loop_phi(&mut self, sym: Sym, cur: NodeId) -> NodeId {
        let mut new_nodes = self.next_node;
        let frame = self.frames.last_mut();
        let Some(frame) = frame else { return cur };
        let start = match frame.phi_owner.get(&cur) {
            Some(&OUTSIDE) => 0,
            Some(&j) => j as usize + 1,
            None => frame
                .recorders
                .iter()
                .position(|r| r.is_loop && cur < r.first)
                .unwrap_or(frame.recorders.len()),
        };
        let mut node = cur;
        let mut copies = Vec::new();
        for j in start..frame.recorders.len() {
            let rec = &mut frame.recorders[j];
            if !rec.is_loop {
                continue;
            }
            if let Some(&(_, p)) = rec.phis.iter().find(|(s, _)| *s == sym) {
                node = p;
                continue;
            }
            let p = new_nodes;
            new_nodes += 1;
            copies.push((p, node));
            rec.phis.push((sym, p));
            frame.phi_owner.insert(p, j as u32);
            node = p;
        }
        if node != cur {
            frame.flow.set(sym, node);
        }
        let owner = self.owner_now();
        while self.node_owner.len() < new_nodes as usize {
            self.node_owner.push(owner);
        }
        self.next_node = new_nodes;
        for (dst, src) in copies {
            self.copy(dst, src);
        }
        node
    }

    /// Binds a name in the current scope to `value` (NONE: a value the analysis ignores).
    fn write(&mut self, sym: Sym, value: NodeId) {
        let def = self.cur_def();
        let (global, nonlocal) = self.scope_declares(def, sym);
        if global {
            let remote = self.module_var_remote(sym);
            self.copy(remote, value);
            return;
        }
        if nonlocal {
            self.nonlocal_writes.push((value, sym, def));
            return;
        }
        let v = self.new_node();
        self.copy(v, value);
        let var = self.scopes[def as usize].vars.entry(sym).or_default();
        var.versions.push(v);
        var.local = true;
        let frame = self.frame();
        frame.flow.set(sym, v);
        if let Some(rec) = frame.recorders.last_mut() {
            rec.defs.push((sym, v));
        }
    }

    /// Binds a comprehension variable (visible only in the comprehension).
    fn bind_local(&mut self, sym: Sym, value: NodeId) {
        let v = self.new_node();
        self.copy(v, value);
        self.frame().flow.set(sym, v);
    }

    fn merge(&mut self, outs: Vec<BranchOut>, fallthrough: bool) {
        let live: Vec<FxMap<Sym, NodeId>> = outs
            .iter()
            .filter(|o| !o.dead)
            .map(|o| o.changes.iter().copied().collect())
            .collect();
        if live.is_empty() && !fallthrough {
            self.frame().flow.dead = true;
            return;
        }
        let mut syms: Vec<Sym> = Vec::new();
        let mut seen: FxMap<Sym, ()> = FxMap::default();
        for out in &outs {
            if out.dead {
                continue;
            }
            for &(sym, _) in &out.changes {
                if seen.insert(sym, ()).is_none() {
                    syms.push(sym);
                }
            }
        }
        let mut sets: Vec<(Sym, Vec<NodeId>)> = Vec::new();
        for sym in syms {
            let pre = self.frame().flow.get(sym);
            let is_path = sym & PATH_BIT != 0;
            let mut values: Vec<NodeId> = Vec::new();
            let mut unknown = false;
            let mut push = |v: Option<NodeId>| match v {
                Some(v) if v != NONE => {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
                _ => unknown = true,
            };
            if fallthrough {
                push(pre);
            }
            for out in &live {
                match out.get(&sym) {
                    Some(&v) => push(Some(v)),
                    None => push(pre),
                }
            }
            if is_path && unknown {
                // A path some branch leaves to the heap is read from the heap after the merge.
                values.clear();
            }
            sets.push((sym, values));
        }
        for (sym, values) in sets {
            let node = match values.len() {
                0 if sym & PATH_BIT != 0 => NONE,
                0 => continue,
                1 => values[0],
                _ => {
                    let n = self.new_node();
                    for v in values {
                        self.copy(n, v);
                    }
                    n
                }
            };
            self.frame().flow.set(sym, node);
        }
    }

    // ----- subscript paths -------------------------------------------------------------------

    /// `name[k1][k2]…` with literal keys, read from the syntax alone.
    fn literal_path(&mut self, n: TsNode<'t>) -> Option<(Sym, Vec<Const>)> {
        let k = self.k;
        let mut keys = Vec::new();
        let mut cur = n;
        while cur.kind_id() == k.subscript {
            let sub = self.only_subscript(cur)?;
            let key = self.pure_literal(sub)?;
            keys.push(key);
            cur = self.field(cur, k.f_value)?;
            if keys.len() > 8 {
                return None;
            }
        }
        if cur.kind_id() != k.identifier || keys.is_empty() {
            return None;
        }
        keys.reverse();
        Some((self.sym(cur), keys))
    }

    /// The subscript of `n` when it has exactly one (`a[k]`, not `a[i, j]`).
    fn only_subscript(&mut self, n: TsNode<'t>) -> Option<TsNode<'t>> {
        let f_subscript = self.k.f_subscript;
        let ch = self.fielded_children(n);
        let mut subs = ch
            .iter()
            .filter(|&&(_, f)| f == f_subscript)
            .map(|&(c, _)| c);
        let only = match (subs.next(), subs.next()) {
            (Some(first), None) => Some(first),
            _ => None,
        };
        self.recycle_fielded(ch);
        only
    }

    /// A literal key without evaluating anything.
    fn pure_literal(&mut self, n: TsNode<'t>) -> Option<Const> {
        let k = self.k;
        let nk = n.kind_id();
        if nk == k.string || nk == k.integer || nk == k.unary_operator {
            match self.literal(n)? {
                c @ (Const::Str(_) | Const::Int(_)) => Some(c),
                _ => None,
            }
        } else {
            None
        }
    }

    fn path_id(&mut self, base: NodeId, keys: &[Const], create: bool) -> Option<u32> {
        if let Some(&id) = self.paths.get(&(base, keys.to_vec())) {
            return Some(id);
        }
        if !create {
            return None;
        }
        let id = PATH_BIT | self.paths.len() as u32;
        self.paths.insert((base, keys.to_vec()), id);
        self.paths_of
            .entry(base)
            .or_default()
            .push((id, keys.len()));
        Some(id)
    }

    fn in_loop(&mut self) -> bool {
        self.frame().recorders.iter().any(|r| r.is_loop)
    }

    /// After `name[k…] = value` in straight-line code, reads of the same path see `value`
    /// only (a strong update), until the name is rebound or the path may have changed.
    fn set_path(&mut self, sym: Sym, keys: &[Const], value: NodeId) {
        if !self.frame().recorders.is_empty() {
            // Inside a loop or a `try`, the store may happen or not: the heap has both.
            self.kill_paths_of(sym);
            return;
        }
        let Some(base) = self.frame().flow.get(sym) else {
            return;
        };
        let Some(id) = self.path_id(base, keys, true) else {
            return;
        };
        // Longer paths under this one change with it.
        let longer: Vec<u32> = self
            .paths_of
            .get(&base)
            .map(|v| {
                v.iter()
                    .filter(|&&(p, len)| p != id && len > keys.len())
                    .map(|&(p, _)| p)
                    .collect()
            })
            .unwrap_or_default();
        for p in longer {
            if self.frame().flow.get(p).is_some_and(|v| v != NONE) {
                self.frame().flow.set(p, NONE);
            }
        }
        self.frame()
            .flow
            .set(id, if value == NONE { NONE } else { value });
    }

    /// Forgets what is known of `name[…]` (the container may have changed).
    fn kill_paths_of(&mut self, sym: Sym) {
        let Some(base) = self.frame().flow.get(sym) else {
            return;
        };
        let ids: Vec<u32> = self
            .paths_of
            .get(&base)
            .map(|v| v.iter().map(|&(p, _)| p).collect())
            .unwrap_or_default();
        for p in ids {
            if self.frame().flow.get(p).is_some_and(|v| v != NONE) {
                self.frame().flow.set(p, NONE);
            }
        }
    }

    /// Forgets every path of the current scope (after a loop or a `try`).
    fn kill_all_paths(&mut self) {
        let keys: Vec<u32> = self
            .frame()
            .flow
            .map
            .iter()
            .filter(|&(&k, &v)| k & PATH_BIT != 0 && v != NONE)
            .map(|(&k, _)| k)
            .collect();
        for k in keys {
            self.frame().flow.set(k, NONE);
        }
    }

    /// The value of `name[k…]` if a strong update of (a prefix of) the path is known.
    fn read_path(&mut self, n: TsNode<'t>) -> Option<NodeId> {
        if self.in_loop() {
            return None;
        }
        let (sym, keys) = self.literal_path(n)?;
        let base = self.frame().flow.get(sym)?;
        for i in (1..=keys.len()).rev() {
            let Some(id) = self.path_id(base, &keys[..i], false) else {
                continue;
            };
            let Some(v) = self.frame().flow.get(id) else {
                continue;
            };
            if v == NONE {
                continue;
            }
            let mut cur = v;
            for &key in &keys[i..] {
                let dst = self.new_node();
                let site = self.site(n);
                self.op(Op::SubLoad {
                    dst,
                    base: cur,
                    key: Key::Const(key),
                    site,
                    unpack: false,
                });
                cur = dst;
            }
            return Some(cur);
        }
        None
    }

    fn begin_recorder(&mut self, is_loop: bool) {
        let first = self.next_node;
        self.frame().recorders.push(Recorder {
            is_loop,
            first,
            phis: Vec::new(),
            defs: Vec::new(),
        });
    }

    /// Ends the innermost recorder; its definitions also belong to the enclosing one.
    fn end_recorder(&mut self) -> Option<Recorder> {
        let frame = self.frame();
        let rec = frame.recorders.pop()?;
        if let Some(parent) = frame.recorders.last_mut() {
            parent.defs.extend_from_slice(&rec.defs);
        }
        for (_, p) in &rec.phis {
            frame.phi_owner.remove(p);
        }
        Some(rec)
    }

    /// Closes a loop: feeds the definitions made in the body to the head's phis, and leaves
    /// each name defined in the loop with its value before the loop or any value from inside.
    fn end_loop(&mut self, mark: Mark) {
        let Some(rec) = self.end_recorder() else {
            return;
        };
        let mut by_sym: FxMap<Sym, Vec<NodeId>> = FxMap::default();
        for &(sym, d) in &rec.defs {
            by_sym.entry(sym).or_default().push(d);
        }
        for &(sym, p) in &rec.phis {
            if let Some(defs) = by_sym.get(&sym) {
                for &d in defs {
                    self.copy(p, d);
                }
            }
        }
        self.frame().flow.rollback(mark);
        let mut syms: Vec<Sym> = by_sym.keys().copied().collect();
        syms.sort_unstable();
        for sym in syms {
            let node = match rec.phis.iter().find(|(s, _)| *s == sym) {
                Some(&(_, p)) => p,
                None => {
                    let n = self.new_node();
                    if let Some(pre) = self.frame().flow.get(sym) {
                        self.copy(n, pre);
                    }
                    if let Some(defs) = by_sym.get(&sym) {
                        for &d in defs {
                            self.copy(n, d);
                        }
                    }
                    n
                }
            };
            self.frame().flow.set(sym, node);
        }
        self.kill_all_paths();
    }

    // ----- statements ----------------------------------------------------------------------

    fn block(&mut self, n: TsNode<'t>) {
        let ch = self.children(n, true);
        for &c in &ch {
            self.stmt(c);
        }
        self.recycle(ch);
    }

    fn stmt(&mut self, n: TsNode<'t>) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(n);
        self.depth -= 1;
        if self.literal_elems.len() > 256 {
            self.literal_elems.clear();
        }
        if self.literal_dicts.len() > 256 {
            self.literal_dicts.clear();
        }
    }

    #[inline(never)]
    fn stmt_inner(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let kind = n.kind_id();
        if kind == k.expression_statement {
            let ch = self.children(n, true);
            for &c in &ch {
                let ck = c.kind_id();
                if ck == k.assignment {
                    self.assignment(c);
                } else if ck == k.augmented_assignment {
                    self.aug_assignment(c);
                } else if ck == k.string || ck == k.concatenated_string {
                    // A docstring or a bare string: nothing to track unless it interpolates.
                    self.interpolations(c);
                } else {
                    self.expr(c);
                }
            }
            self.recycle(ch);
        } else if kind == k.function_definition {
            self.function_def(n, &[]);
        } else if kind == k.class_definition {
            self.class_def(n, &[]);
        } else if kind == k.decorated_definition {
            self.decorated(n);
        } else if kind == k.return_statement {
            if let Some(v) = self.first_named(n) {
                let value = self.expr_or_tuple(v);
                let def = self.cur_def();
                if def != 0 {
                    let ret = self.defs[def as usize].ret;
                    self.copy(ret, value);
                }
            }
            self.frame().flow.dead = true;
        } else if kind == k.raise_statement {
            self.raise(n);
            self.frame().flow.dead = true;
        } else if kind == k.break_statement || kind == k.continue_statement {
            self.frame().flow.dead = true;
        } else if kind == k.if_statement {
            self.if_stmt(n);
        } else if kind == k.for_statement {
            self.for_stmt(n);
        } else if kind == k.while_statement {
            self.while_stmt(n);
        } else if kind == k.try_statement {
            self.try_stmt(n);
        } else if kind == k.with_statement {
            self.with_stmt(n);
        } else if kind == k.match_statement {
            self.match_stmt(n);
        } else if kind == k.import_statement {
            self.import_stmt(n);
        } else if kind == k.import_from_statement {
            self.import_from(n);
        } else if kind == k.global_statement || kind == k.nonlocal_statement {
            let global = kind == k.global_statement;
            let ch = self.children(n, true);
            let def = self.cur_def() as usize;
            for &c in &ch {
                if c.kind_id() == k.identifier {
                    let sym = self.sym(c);
                    if let Some(scope) = self.scopes.get_mut(def) {
                        if global {
                            scope.globals.push(sym);
                        } else {
                            scope.nonlocals.push(sym);
                        }
                    }
                }
            }
            self.recycle(ch);
        } else if kind == k.block || kind == k.module {
            self.block(n);
        } else if kind == k.pass_statement
            || kind == k.future_import_statement
            || kind == k.comment
            || kind == k.delete_statement
            || kind == k.type_alias_statement
        {
        } else if n.is_error() {
            self.error_node(n);
        } else {
            // assert, print and exec statements, and anything else: their expressions may
            // contain calls.
            let ch = self.children(n, true);
            for &c in &ch {
                self.expr(c);
            }
            self.recycle(ch);
        }
    }

    /// An `ERROR` node can hold statements or expressions: walk each as what it looks like.
    fn error_node(&mut self, n: TsNode<'t>) {
        let ch = self.children(n, true);
        for &c in &ch {
            if is_statement_kind(self.k, c.kind_id()) {
                self.stmt(c);
            } else {
                self.expr(c);
            }
        }
        self.recycle(ch);
    }

    #[inline(never)]
    fn if_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        if let Some(c) = self.field(n, k.f_condition) {
            self.expr(c);
        }
        let mut outs = Vec::new();
        let mut has_else = false;
        let mark = self.frame().flow.mark();
        if let Some(body) = self.field(n, k.f_consequence) {
            self.block(body);
        }
        outs.push(self.frame().flow.take(mark));
        let ch = self.fielded_children(n);
        for &(c, field) in &ch {
            if field != k.f_alternative {
                continue;
            }
            if c.kind_id() == k.elif_clause {
                if let Some(cond) = self.field(c, k.f_condition) {
                    self.expr(cond);
                }
                if let Some(body) = self.field(c, k.f_consequence) {
                    self.block(body);
                }
            } else if c.kind_id() == k.else_clause {
                has_else = true;
                if let Some(body) = self.field(c, k.f_body) {
                    self.block(body);
                }
            }
            outs.push(self.frame().flow.take(mark));
        }
        self.recycle_fielded(ch);
        self.merge(outs, !has_else);
    }

    #[inline(never)]
    fn for_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let right = self.field(n, k.f_right);
        let src = right.map_or(NONE, |r| self.expr_or_tuple(r));
        let header_end = right.map_or(n.start_byte(), |r| r.end_byte());
        let site = self.site_range(n.start_byte(), header_end);
        let it = self.new_node();
        if src != NONE {
            self.op(Op::IterStart { site, src, dst: it });
        }
        let mark = self.frame().flow.mark();
        self.begin_recorder(true);
        let elem = self.new_node();
        if src != NONE {
            self.op(Op::IterNext {
                site,
                src: it,
                dst: elem,
            });
        }
        if let Some(left) = self.field(n, k.f_left) {
            self.assign_target(left, elem, Bind::Normal);
        }
        if let Some(body) = self.field(n, k.f_body) {
            self.block(body);
        }
        self.end_loop(mark);
        if let Some(alt) = self.field(n, k.f_alternative) {
            if let Some(body) = self.field(alt, k.f_body) {
                self.block(body);
            }
        }
    }

    fn while_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let mark = self.frame().flow.mark();
        self.begin_recorder(true);
        if let Some(c) = self.field(n, k.f_condition) {
            self.expr(c);
        }
        if let Some(body) = self.field(n, k.f_body) {
            self.block(body);
        }
        self.end_loop(mark);
        if let Some(alt) = self.field(n, k.f_alternative) {
            if let Some(body) = self.field(alt, k.f_body) {
                self.block(body);
            }
        }
    }

    #[inline(never)]
    fn try_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let mark = self.frame().flow.mark();
        self.begin_recorder(false);
        if let Some(body) = self.field(n, k.f_body) {
            self.block(body);
        }
        let rec = self.end_recorder();
        let ch = self.children(n, true);
        for &c in &ch {
            if c.kind_id() == k.else_clause {
                if let Some(body) = self.field(c, k.f_body) {
                    self.block(body);
                }
            }
        }
        let mut outs = vec![self.frame().flow.take(mark)];
        // A handler may start anywhere in the body: each name defined there may have its
        // value from before the `try` or from any definition in the body.
        let mut entry: Vec<(Sym, NodeId)> = Vec::new();
        if let Some(rec) = rec {
            let mut by_sym: FxMap<Sym, Vec<NodeId>> = FxMap::default();
            for &(sym, d) in &rec.defs {
                by_sym.entry(sym).or_default().push(d);
            }
            let mut syms: Vec<Sym> = by_sym.keys().copied().collect();
            syms.sort_unstable();
            for sym in syms {
                let n = self.new_node();
                if let Some(pre) = self.frame().flow.get(sym) {
                    self.copy(n, pre);
                }
                if let Some(defs) = by_sym.get(&sym) {
                    for &d in defs {
                        self.copy(n, d);
                    }
                }
                entry.push((sym, n));
            }
        }
        let mut finally = None;
        for &c in &ch {
            if c.kind_id() == k.except_clause {
                for &(sym, node) in &entry {
                    self.frame().flow.set(sym, node);
                }
                self.except_clause(c);
                outs.push(self.frame().flow.take(mark));
            } else if c.kind_id() == k.finally_clause {
                finally = Some(c);
            }
        }
        self.recycle(ch);
        self.merge(outs, false);
        self.kill_all_paths();
        if let Some(f) = finally {
            let body = self.first_named(f);
            if let Some(b) = body {
                self.block(b);
            }
        }
    }

    fn except_clause(&mut self, c: TsNode<'t>) {
        let k = self.k;
        let ch = self.fielded_children(c);
        for &(x, field) in &ch {
            if x.kind_id() == k.block {
                self.block(x);
            } else if x.kind_id() == k.as_pattern {
                let parts = self.fielded_children(x);
                for &(p, f) in &parts {
                    if f == k.f_alias {
                        self.bind_alias(p, NONE);
                    } else {
                        self.expr(p);
                    }
                }
                self.recycle_fielded(parts);
            } else if field == k.f_alias {
                self.bind_alias(x, NONE);
            } else {
                self.expr(x);
            }
        }
        self.recycle_fielded(ch);
    }

    fn bind_alias(&mut self, target: TsNode<'t>, value: NodeId) {
        if target.kind_id() == self.k.as_pattern_target {
            if let Some(inner) = self.first_named(target) {
                self.assign_target(inner, value, Bind::Normal);
            }
        } else {
            self.assign_target(target, value, Bind::Normal);
        }
    }

    #[inline(never)]
    fn with_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let ch = self.children(n, true);
        for &c in &ch {
            if c.kind_id() == k.with_clause {
                let items = self.children(c, true);
                for &item in &items {
                    if item.kind_id() != k.with_item {
                        self.expr(item);
                        continue;
                    }
                    let Some(value) = self.field(item, k.f_value) else {
                        continue;
                    };
                    if value.kind_id() == k.as_pattern {
                        let parts = self.fielded_children(value);
                        let mut src = NONE;
                        let mut target = None;
                        for &(p, f) in &parts {
                            if f == k.f_alias {
                                target = Some(p);
                            } else if src == NONE {
                                src = self.expr(p);
                            }
                        }
                        self.recycle_fielded(parts);
                        let dst = self.new_node();
                        if src != NONE {
                            let site = self.site(item);
                            self.op(Op::With { site, src, dst });
                        }
                        if let Some(t) = target {
                            self.bind_alias(t, dst);
                        }
                    } else {
                        let src = self.expr(value);
                        if src != NONE {
                            let site = self.site(item);
                            self.op(Op::With {
                                site,
                                src,
                                dst: NONE,
                            });
                        }
                    }
                }
                self.recycle(items);
            } else if c.kind_id() == k.block {
                self.block(c);
            }
        }
        self.recycle(ch);
    }

    fn match_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let subject = self.field(n, k.f_subject).map_or(NONE, |s| self.expr(s));
        let Some(body) = self.field(n, k.f_body) else {
            return;
        };
        let mark = self.frame().flow.mark();
        let mut outs = Vec::new();
        let cases = self.children(body, true);
        for &case in &cases {
            if case.kind_id() != k.case_clause {
                continue;
            }
            let parts = self.fielded_children(case);
            for &(p, f) in &parts {
                if p.kind_id() == k.case_pattern {
                    self.capture_names(p, subject);
                } else if f == k.f_guard {
                    self.expr(p);
                } else if f == k.f_consequence {
                    self.block(p);
                }
            }
            self.recycle_fielded(parts);
            outs.push(self.frame().flow.take(mark));
        }
        self.recycle(cases);
        self.merge(outs, true);
    }

    /// Binds the capture names of a `case` pattern (to the subject, roughly).
    fn capture_names(&mut self, pattern: TsNode<'t>, subject: NodeId) {
        let k = self.k;
        let mut stack = vec![pattern];
        let mut steps = 0usize;
        while let Some(p) = stack.pop() {
            steps += 1;
            if steps > 10_000 {
                break;
            }
            if p.kind_id() == k.dotted_name {
                let ch = self.children(p, true);
                if ch.len() == 1 && ch[0].kind_id() == k.identifier {
                    let sym = self.sym(ch[0]);
                    self.write(sym, subject);
                }
                self.recycle(ch);
                continue;
            }
            if p.kind_id() == k.identifier {
                let sym = self.sym(p);
                self.write(sym, subject);
                continue;
            }
            let ch = self.children(p, true);
            stack.extend(ch.iter().rev().copied());
            self.recycle(ch);
        }
    }

    fn raise(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let ch = self.fielded_children(n);
        for &(c, field) in &ch {
            let v = self.expr_or_tuple(c);
            if field != k.f_cause && v != NONE {
                let site = self.site(n);
                self.op(Op::Raise { site, src: v });
            }
        }
        self.recycle_fielded(ch);
    }

    // ----- assignments ---------------------------------------------------------------------

    #[inline(never)]
    fn assignment(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let mut targets = Vec::new();
        let mut cur = n;
        let right = loop {
            if let Some(left) = self.field(cur, k.f_left) {
                targets.push(left);
            }
            match self.field(cur, k.f_right) {
                Some(r) if r.kind_id() == k.assignment => cur = r,
                other => break other,
            }
        };
        let Some(right) = right else { return };
        let value = if right.kind_id() == k.augmented_assignment {
            self.aug_assignment(right)
        } else {
            self.expr_or_tuple(right)
        };
        for &t in &targets {
            self.assign_target(t, value, Bind::Normal);
        }
        if targets.len() == 1 && targets[0].kind_id() == k.identifier {
            let name = self.text(targets[0]);
            if name == "__all__" && self.cur_def() == 0 {
                self.collect_all(right, false);
            } else if let Some(sref) = self.static_ref(right) {
                let sym = self.sym(targets[0]);
                self.add_static(sym, StaticBinding::Alias(sref));
            }
        }
    }

    /// Collects the string literals of a module-level `__all__` definition.
    fn collect_all(&mut self, n: TsNode<'t>, extend: bool) {
        let k = self.k;
        let mut names = if extend {
            self.all_names.take().unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut stack = vec![n];
        let mut steps = 0usize;
        while let Some(x) = stack.pop() {
            steps += 1;
            if steps > 100_000 {
                break;
            }
            let xk = x.kind_id();
            if xk == k.string {
                if let Some(s) = self.string_value(x) {
                    let sym = self.strings.intern(s);
                    names.push(sym);
                }
            } else if xk == k.list
                || xk == k.tuple
                || xk == k.parenthesized_expression
                || xk == k.binary_operator
                || xk == k.expression_list
                || xk == k.argument_list
            {
                let ch = self.children(x, true);
                stack.extend(ch.iter().rev().copied());
                self.recycle(ch);
            }
        }
        self.all_names = Some(names);
    }

    fn aug_assignment(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let Some(left) = self.field(n, k.f_left) else {
            return NONE;
        };
        let right = self
            .field(n, k.f_right)
            .map_or(NONE, |r| self.expr_or_tuple(r));
        let lk = left.kind_id();
        if lk == k.identifier {
            let sym = self.sym(left);
            if self.text(left) == "__all__" && self.cur_def() == 0 {
                if let Some(r) = self.field(n, k.f_right) {
                    self.collect_all(r, true);
                }
            }
            let old = self.read(sym);
            let v = self.new_node();
            self.copy(v, old);
            if right != NONE {
                self.op(Op::CopyObj { dst: v, src: right });
            }
            self.write(sym, v);
            v
        } else if lk == k.attribute {
            let object = self.field(left, k.f_object);
            let base = object.map_or(NONE, |o| self.expr(o));
            let Some(attr) = self.field(left, k.f_attribute) else {
                return NONE;
            };
            let attr = self.sym(attr);
            if let Some(o) = object {
                self.note_self_attr(o, attr);
            }
            if base == NONE {
                return NONE;
            }
            let v = self.new_node();
            let site = self.site(left);
            self.op(Op::Load {
                dst: v,
                base,
                attr,
                site,
            });
            if right != NONE {
                self.op(Op::CopyObj { dst: v, src: right });
            }
            self.op(Op::Store { base, attr, src: v });
            v
        } else if lk == k.subscript {
            self.kill_paths_under(left);
            let (base, key) = self.subscript_parts(left);
            if base == NONE {
                return NONE;
            }
            let v = self.new_node();
            let site = self.site(left);
            self.op(Op::SubLoad {
                dst: v,
                base,
                key,
                site,
                unpack: false,
            });
            if right != NONE {
                self.op(Op::CopyObj { dst: v, src: right });
            }
            self.op(Op::SubStore {
                base,
                key,
                src: v,
                site,
            });
            v
        } else {
            self.expr(left);
            NONE
        }
    }

    fn assign_target(&mut self, t: TsNode<'t>, value: NodeId, bind: Bind) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.assign_target_inner(t, value, bind);
        self.depth -= 1;
    }

    #[inline(never)]
    fn assign_target_inner(&mut self, t: TsNode<'t>, value: NodeId, bind: Bind) {
        let k = self.k;
        let tk = t.kind_id();
        if tk == k.identifier {
            let sym = self.sym(t);
            match bind {
                Bind::Normal => self.write(sym, value),
                Bind::Comprehension => self.bind_local(sym, value),
            }
        } else if tk == k.attribute {
            let object = self.field(t, k.f_object);
            let base = object.map_or(NONE, |o| self.expr(o));
            if let Some(attr) = self.field(t, k.f_attribute) {
                let attr = self.sym(attr);
                if let Some(o) = object {
                    self.note_self_attr(o, attr);
                }
                if base != NONE && value != NONE {
                    self.op(Op::Store {
                        base,
                        attr,
                        src: value,
                    });
                }
            }
        } else if tk == k.subscript {
            let (base, key) = self.subscript_parts(t);
            if base != NONE && value != NONE {
                let site = self.site(t);
                self.op(Op::SubStore {
                    base,
                    key,
                    src: value,
                    site,
                });
            }
            if !self.paths_of.is_empty() || matches!(key, Key::Const(_)) {
                match self.literal_path(t) {
                    Some((sym, keys)) => self.set_path(sym, &keys, value),
                    None => self.kill_paths_under(t),
                }
            }
        } else if tk == k.pattern_list
            || tk == k.tuple_pattern
            || tk == k.list_pattern
            || tk == k.tuple
            || tk == k.list
            || tk == k.expression_list
        {
            self.destructure(t, value, bind);
        } else if tk == k.list_splat_pattern
            || tk == k.parenthesized_expression
            || tk == k.list_splat
        {
            if let Some(inner) = self.first_named(t) {
                self.assign_target(inner, value, bind);
            }
        } else {
            self.expr(t);
        }
    }

    #[inline(never)]
    fn destructure(&mut self, t: TsNode<'t>, value: NodeId, bind: Bind) {
        let k = self.k;
        let targets = self.children(t, true);
        let star = targets
            .iter()
            .position(|x| x.kind_id() == k.list_splat_pattern || x.kind_id() == k.list_splat);
        let lit = if value == NONE {
            None
        } else {
            self.literal_elems.get(&value).cloned()
        };
        let n = targets.len();
        match (lit, star) {
            (Some(elems), None) if elems.len() == n => {
                for (i, &t) in targets.iter().enumerate() {
                    self.assign_target(t, elems[i], bind);
                }
            }
            (Some(elems), Some(s)) if elems.len() + 1 >= n => {
                let after = n - s - 1;
                for (i, &t) in targets.iter().enumerate().take(s) {
                    self.assign_target(t, elems[i], bind);
                }
                for j in 0..after {
                    self.assign_target(targets[s + 1 + j], elems[elems.len() - after + j], bind);
                }
                let list = self.new_node();
                let alloc = self.new_alloc();
                self.op(Op::Alloc {
                    dst: list,
                    kind: ContainerKind::List,
                    alloc,
                });
                for (j, &e) in elems[s..elems.len() - after].iter().enumerate() {
                    if e != NONE {
                        self.op(Op::SubStore {
                            base: list,
                            key: Key::Const(Const::Int(j as i32)),
                            src: e,
                            site: NONE,
                        });
                    }
                }
                self.assign_target(targets[s], list, bind);
            }
            _ => {
                for (i, &t) in targets.iter().enumerate() {
                    if value == NONE {
                        self.assign_target(t, NONE, bind);
                        continue;
                    }
                    let dst = self.new_node();
                    if Some(i) == star {
                        let list = dst;
                        let alloc = self.new_alloc();
                        self.op(Op::Alloc {
                            dst: list,
                            kind: ContainerKind::List,
                            alloc,
                        });
                        let e = self.new_node();
                        self.op(Op::Elems { dst: e, src: value });
                        self.op(Op::SubStore {
                            base: list,
                            key: Key::Unknown,
                            src: e,
                            site: NONE,
                        });
                    } else {
                        let key = if star.is_some_and(|s| i > s) {
                            Key::Unknown
                        } else {
                            Key::Const(Const::Int(i as i32))
                        };
                        self.op(Op::SubLoad {
                            dst,
                            base: value,
                            key,
                            site: NONE,
                            unpack: true,
                        });
                    }
                    self.assign_target(t, dst, bind);
                }
            }
        }
        self.recycle(targets);
    }

    /// Records `self.attr = …` in a method: the class's instances have that attribute.
    fn note_self_attr(&mut self, object: TsNode<'t>, attr: Sym) {
        if object.kind_id() != self.k.identifier {
            return;
        }
        let def = self.cur_def();
        let Some(d) = self.defs.get(def as usize) else {
            return;
        };
        if d.class == NONE || d.method == MethodKind::Static {
            return;
        }
        let class = d.class;
        let Some(first) = d.params.first() else {
            return;
        };
        let first = first.name;
        if self.sym(object) == first {
            self.self_attrs.push((class, attr));
        }
    }

    /// The base node and key of a subscript expression.
    fn subscript_parts(&mut self, n: TsNode<'t>) -> (NodeId, Key) {
        let only = self.only_subscript(n);
        self.subscript_parts_of(n, only)
    }

    /// `subscript_parts`, given `only_subscript(n)`.
    fn subscript_parts_of(&mut self, n: TsNode<'t>, only: Option<TsNode<'t>>) -> (NodeId, Key) {
        let k = self.k;
        let base = self.field(n, k.f_value).map_or(NONE, |v| self.expr(v));
        let key = match only {
            Some(sub) => self.key(sub),
            None => {
                let ch = self.fielded_children(n);
                for &(s, f) in &ch {
                    if f == k.f_subscript {
                        self.expr(s);
                    }
                }
                self.recycle_fielded(ch);
                Key::Unknown
            }
        };
        (base, key)
    }

    fn key(&mut self, n: TsNode<'t>) -> Key {
        let k = self.k;
        let nk = n.kind_id();
        if let Some(c) = self.literal(n) {
            return Key::Const(c);
        }
        if nk == k.identifier || nk == k.attribute || nk == k.call || nk == k.subscript {
            let v = self.expr(n);
            if v == NONE {
                Key::Unknown
            } else {
                Key::Node(v)
            }
        } else {
            self.expr(n);
            Key::Unknown
        }
    }

    /// A literal constant key: a string without interpolation, an integer, a negated integer.
    fn literal(&mut self, n: TsNode<'t>) -> Option<Const> {
        let k = self.k;
        let nk = n.kind_id();
        if nk == k.string {
            let s = self.string_value(n)?;
            if s.len() > MAX_EXACT_STRING {
                return Some(Const::StrAny);
            }
            return Some(Const::Str(self.strings.intern(s)));
        }
        if nk == k.integer {
            return Some(parse_int(self.text(n)).map_or(Const::IntAny, Const::Int));
        }
        if nk == k.unary_operator {
            let arg = self.field(n, k.f_argument)?;
            let op = self.field(n, k.f_operator)?;
            if arg.kind_id() == k.integer && self.text(op) == "-" {
                return Some(
                    parse_int(self.text(arg))
                        .and_then(|v| v.checked_neg())
                        .map_or(Const::IntAny, Const::Int),
                );
            }
        }
        None
    }

    /// The value of a plain string literal (no interpolation, no escapes, not bytes).
    fn string_value(&mut self, n: TsNode<'t>) -> Option<&'a str> {
        let k = self.k;
        let ch = self.children(n, false);
        let mut content: Option<&'a str> = None;
        let mut ok = true;
        for &c in &ch {
            let ck = c.kind_id();
            if ck == k.string_start {
                let prefix = self.text(c);
                if prefix.contains(['b', 'B', 'f', 'F']) {
                    ok = false;
                }
            } else if ck == k.string_content {
                if c.named_child_count() > 0 || content.is_some() {
                    ok = false;
                }
                content = Some(self.text(c));
            } else if ck == k.interpolation {
                ok = false;
            }
        }
        self.recycle(ch);
        if !ok {
            return None;
        }
        Some(content.unwrap_or(""))
    }

    /// Walks the interpolated expressions of an f-string (they may call things).
    fn interpolations(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let ch = self.children(n, true);
        for &c in &ch {
            if c.kind_id() == k.interpolation {
                if let Some(e) = self.first_named(c) {
                    self.expr(e);
                }
            } else if c.kind_id() == k.string {
                self.interpolations(c);
            }
        }
        self.recycle(ch);
    }

    fn new_alloc(&mut self) -> AllocIdx {
        let a = self.num_allocs;
        self.num_allocs += 1;
        let owner = self.owner_now();
        self.alloc_owner.push(owner);
        a
    }

    // ----- expressions ---------------------------------------------------------------------

    /// An expression, or several separated by commas (a tuple).
    fn expr_or_tuple(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        if n.kind_id() == k.expression_list || n.kind_id() == k.pattern_list {
            self.container(n, ContainerKind::Tuple)
        } else {
            self.expr(n)
        }
    }

    fn expr(&mut self, n: TsNode<'t>) -> NodeId {
        if self.depth >= MAX_DEPTH {
            return NONE;
        }
        self.depth += 1;
        let r = self.expr_inner(n);
        self.depth -= 1;
        r
    }

    /// Dispatches on the expression's kind. The work is in separate functions that are not
    /// inlined, so that each level of a deeply nested expression costs the stack only the
    /// frames of the kinds actually nested (debug builds give a function one frame for the
    /// locals of all its branches).
    fn expr_inner(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let kind = n.kind_id();
        if kind == k.identifier {
            let sym = self.sym(n);
            self.read(sym)
        } else if kind == k.attribute {
            self.attribute(n)
        } else if kind == k.call {
            self.call(n)
        } else if kind == k.subscript {
            self.subscript(n)
        } else if kind == k.string || kind == k.concatenated_string {
            self.string(n)
        } else if kind == k.integer {
            let c = parse_int(self.text(n)).map_or(Const::IntAny, Const::Int);
            self.const_node(c)
        } else if kind == k.float {
            self.const_node(Const::Float)
        } else if kind == k.list {
            self.container(n, ContainerKind::List)
        } else if kind == k.tuple || kind == k.expression_list || kind == k.pattern_list {
            self.container(n, ContainerKind::Tuple)
        } else if kind == k.set {
            self.container(n, ContainerKind::Set)
        } else if kind == k.dictionary {
            self.dictionary(n)
        } else if kind == k.list_comprehension || kind == k.generator_expression {
            self.comprehension(n, ContainerKind::List)
        } else if kind == k.set_comprehension {
            self.comprehension(n, ContainerKind::Set)
        } else if kind == k.dictionary_comprehension {
            self.comprehension(n, ContainerKind::Dict)
        } else if kind == k.lambda {
            self.lambda(n)
        } else if kind == k.binary_operator {
            self.binary(n)
        } else if kind == k.yield_ {
            self.yield_expr(n)
        } else if kind == k.type_ || kind == k.comment {
            NONE
        } else {
            self.other_expr(n)
        }
    }

    #[inline(never)]
    fn attribute(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let base = self.field(n, k.f_object).map_or(NONE, |o| self.expr(o));
        let attr = self.field(n, k.f_attribute);
        self.last_attribute = Some((n.id(), attr));
        let Some(attr) = attr else {
            return NONE;
        };
        if base == NONE {
            return NONE;
        }
        let attr = self.sym(attr);
        let dst = self.new_node();
        let site = self.site(n);
        self.op(Op::Load {
            dst,
            base,
            attr,
            site,
        });
        dst
    }

    #[inline(never)]
    fn subscript(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let only = self.only_subscript(n);
        let slice = only.filter(|sub| sub.kind_id() == k.slice);
        if let Some(slice) = slice {
            let base = self.field(n, k.f_value).map_or(NONE, |v| self.expr(v));
            let (lo, hi) = self.slice_bounds(slice);
            if base == NONE {
                return NONE;
            }
            let dst = self.new_node();
            let alloc = self.new_alloc();
            self.op(Op::Slice {
                dst,
                base,
                lo: Bound::new(lo),
                hi: Bound::new(hi),
                alloc,
            });
            return dst;
        }
        if !self.paths_of.is_empty() {
            if let Some(v) = self.read_path(n) {
                return v;
            }
        }
        let (base, key) = self.subscript_parts_of(n, only);
        if base == NONE {
            return NONE;
        }
        let dst = self.new_node();
        let site = self.site(n);
        self.op(Op::SubLoad {
            dst,
            base,
            key,
            site,
            unpack: false,
        });
        dst
    }

    #[inline(never)]
    fn string(&mut self, n: TsNode<'t>) -> NodeId {
        if n.kind_id() == self.k.concatenated_string {
            self.interpolations(n);
            return self.const_node(Const::StrAny);
        }
        match self.string_value(n) {
            Some(s) if s.len() <= MAX_EXACT_STRING => {
                let sym = self.strings.intern(s);
                self.const_node(Const::Str(sym))
            }
            Some(_) => self.const_node(Const::StrAny),
            None => {
                let bytes = self.is_bytes(n);
                self.interpolations(n);
                if bytes {
                    NONE
                } else {
                    self.const_node(Const::StrAny)
                }
            }
        }
    }

    /// The kinds whose value is simple (a merge of their parts, or nothing tracked).
    #[inline(never)]
    fn other_expr(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let kind = n.kind_id();
        if kind == k.conditional_expression {
            let ch = self.children(n, true);
            let mut vals = Vec::new();
            for (i, &c) in ch.iter().enumerate() {
                let v = self.expr(c);
                if i != 1 {
                    vals.push(v);
                }
            }
            self.recycle(ch);
            vals.into_iter().fold(NONE, |acc, v| self.phi(acc, v))
        } else if kind == k.boolean_operator {
            let l = self.field(n, k.f_left).map_or(NONE, |x| self.expr(x));
            let r = self.field(n, k.f_right).map_or(NONE, |x| self.expr(x));
            self.phi(l, r)
        } else if kind == k.unary_operator {
            if let Some(c) = self.literal(n) {
                return self.const_node(c);
            }
            if let Some(a) = self.field(n, k.f_argument) {
                self.expr(a);
            }
            NONE
        } else if kind == k.parenthesized_expression {
            match self.first_named(n) {
                Some(inner) if inner.kind_id() == k.yield_ => self.yield_expr(inner),
                Some(inner) => self.expr(inner),
                None => NONE,
            }
        } else if kind == k.named_expression {
            let v = self.field(n, k.f_value).map_or(NONE, |x| self.expr(x));
            if let Some(name) = self.field(n, k.f_name) {
                let sym = self.sym(name);
                self.write(sym, v);
            }
            v
        } else if kind == k.await_ || kind == k.as_pattern {
            self.first_named(n).map_or(NONE, |x| self.expr(x))
        } else if kind == k.keyword_argument {
            self.field(n, k.f_value).map_or(NONE, |x| self.expr(x))
        } else {
            // Comparisons, `not`, splats, ellipsis, `None`, `True`, errors…: walk the parts
            // for the calls they contain; the value itself is not tracked.
            let ch = self.children(n, true);
            for &c in &ch {
                if is_statement_kind(self.k, c.kind_id()) {
                    self.stmt(c);
                } else {
                    self.expr(c);
                }
            }
            self.recycle(ch);
            NONE
        }
    }

    fn is_bytes(&mut self, n: TsNode<'t>) -> bool {
        let k = self.k;
        let ch = self.children(n, false);
        let bytes = ch
            .iter()
            .any(|c| c.kind_id() == k.string_start && self.text(*c).contains(['b', 'B']));
        self.recycle(ch);
        bytes
    }

    /// `a + b + c + …` is a left-leaning chain as deep as it is long: walked with a loop.
    #[inline(never)]
    fn binary(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let mut rights = Vec::new();
        let mut cur = n;
        let mut percent_on_string = false;
        while cur.kind_id() == k.binary_operator {
            if let Some(r) = self.field(cur, k.f_right) {
                rights.push(r);
            }
            let left = self.field(cur, k.f_left);
            if let (Some(op), Some(l)) = (self.field(cur, k.f_operator), left) {
                if self.text(op) == "%"
                    && (l.kind_id() == k.string || l.kind_id() == k.concatenated_string)
                {
                    percent_on_string = true;
                }
            }
            match left {
                Some(l) => cur = l,
                None => break,
            }
        }
        let mut values = Vec::new();
        if cur.kind_id() != k.binary_operator {
            values.push(self.expr(cur));
        }
        for &r in rights.iter().rev() {
            values.push(self.expr(r));
        }
        if percent_on_string {
            return self.const_node(Const::StrAny);
        }
        let dst = self.new_node();
        let mut any = false;
        for v in values {
            if v != NONE {
                self.op(Op::CopyObj { dst, src: v });
                any = true;
            }
        }
        if any {
            dst
        } else {
            NONE
        }
    }

    fn slice_bounds(&mut self, slice: TsNode<'t>) -> (Option<i32>, Option<i32>) {
        // `a[lo:hi]`, `a[lo:]`, `a[:hi]`, `a[::step]`: read the children with their colons.
        let ch = self.children(slice, false);
        let mut parts: Vec<Option<TsNode<'t>>> = vec![None];
        for &c in &ch {
            if !c.is_named() {
                if self.text(c) == ":" {
                    parts.push(None);
                }
            } else if let Some(last) = parts.last_mut() {
                *last = Some(c);
            }
        }
        self.recycle(ch);
        let mut bound = |p: Option<TsNode<'t>>| -> Result<Option<i32>, ()> {
            match p {
                None => Ok(None),
                Some(x) => match self.literal(x) {
                    Some(Const::Int(v)) => Ok(Some(v)),
                    _ => {
                        self.expr(x);
                        Err(())
                    }
                },
            }
        };
        let lo = bound(parts.first().copied().flatten());
        let hi = bound(parts.get(1).copied().flatten());
        let step = bound(parts.get(2).copied().flatten());
        match (lo, hi, step) {
            (Ok(lo), Ok(hi), Ok(None)) => (lo.or(Some(0)), hi),
            // An unknown bound or a step: every element may be selected, at any position.
            _ => (None, None),
        }
    }

    #[inline(never)]
    fn container(&mut self, n: TsNode<'t>, kind: ContainerKind) -> NodeId {
        let k = self.k;
        let dst = self.new_node();
        let alloc = self.new_alloc();
        self.op(Op::Alloc { dst, kind, alloc });
        let ch = self.children(n, true);
        let mut elems = Vec::with_capacity(ch.len());
        let mut exact = kind != ContainerKind::Set && ch.len() <= MAX_EXACT_ELEMENTS;
        let mut index = 0i32;
        for &c in &ch {
            let ck = c.kind_id();
            if ck == k.list_splat || ck == k.parenthesized_list_splat {
                let inner = self.first_named(c).map_or(NONE, |x| self.expr(x));
                exact = false;
                if inner != NONE {
                    let e = self.new_node();
                    self.op(Op::Elems { dst: e, src: inner });
                    self.op(Op::SubStore {
                        base: dst,
                        key: Key::Unknown,
                        src: e,
                        site: NONE,
                    });
                }
                continue;
            }
            let v = if ck == k.yield_ {
                self.yield_expr(c)
            } else {
                self.expr(c)
            };
            elems.push(v);
            if v != NONE {
                let key = if exact {
                    Key::Const(Const::Int(index))
                } else {
                    Key::Unknown
                };
                self.op(Op::SubStore {
                    base: dst,
                    key,
                    src: v,
                    site: NONE,
                });
            }
            index += 1;
        }
        self.recycle(ch);
        if exact && kind != ContainerKind::Set {
            self.literal_elems.insert(dst, elems);
        }
        dst
    }

    #[inline(never)]
    fn dictionary(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let dst = self.new_node();
        let alloc = self.new_alloc();
        self.op(Op::Alloc {
            dst,
            kind: ContainerKind::Dict,
            alloc,
        });
        let ch = self.children(n, true);
        let exact = ch.len() <= MAX_EXACT_ELEMENTS;
        let mut literal = Some(Vec::new());
        for &c in &ch {
            if c.kind_id() == k.pair {
                let key = match self.field(c, k.f_key) {
                    Some(kn) if exact => self.key(kn),
                    Some(kn) => {
                        self.expr(kn);
                        Key::Unknown
                    }
                    None => Key::Unknown,
                };
                let v = self.field(c, k.f_value).map_or(NONE, |x| self.expr(x));
                match (key, literal.as_mut()) {
                    (Key::Const(c @ (Const::Str(_) | Const::Int(_))), Some(list)) => {
                        list.push((c, v));
                    }
                    _ => literal = None,
                }
                if v != NONE {
                    self.op(Op::SubStore {
                        base: dst,
                        key,
                        src: v,
                        site: NONE,
                    });
                }
            } else if c.kind_id() == k.dictionary_splat {
                literal = None;
                let inner = self.first_named(c).map_or(NONE, |x| self.expr(x));
                if inner != NONE {
                    let e = self.new_node();
                    self.op(Op::Elems { dst: e, src: inner });
                    self.op(Op::SubStore {
                        base: dst,
                        key: Key::Unknown,
                        src: e,
                        site: NONE,
                    });
                }
            } else {
                self.expr(c);
            }
        }
        self.recycle(ch);
        if let Some(list) = literal {
            self.literal_dicts.insert(dst, list);
        }
        dst
    }

    #[inline(never)]
    fn comprehension(&mut self, n: TsNode<'t>, kind: ContainerKind) -> NodeId {
        let k = self.k;
        let mark = self.frame().flow.mark();
        let ch = self.fielded_children(n);
        let mut body = None;
        for &(c, field) in &ch {
            if field == k.f_body {
                body = Some(c);
            } else if c.kind_id() == k.for_in_clause {
                let right = self.field(c, k.f_right);
                let src = right.map_or(NONE, |r| self.expr_or_tuple(r));
                let elem = self.new_node();
                if src != NONE {
                    let site = self.site(c);
                    let it = self.new_node();
                    self.op(Op::IterStart { site, src, dst: it });
                    self.op(Op::IterNext {
                        site,
                        src: it,
                        dst: elem,
                    });
                }
                if let Some(left) = self.field(c, k.f_left) {
                    self.assign_target(left, elem, Bind::Comprehension);
                }
            } else if c.kind_id() == k.if_clause {
                if let Some(e) = self.first_named(c) {
                    self.expr(e);
                }
            }
        }
        self.recycle_fielded(ch);
        let dst = self.new_node();
        let alloc = self.new_alloc();
        self.op(Op::Alloc { dst, kind, alloc });
        if let Some(b) = body {
            if b.kind_id() == k.pair {
                let key = match self.field(b, k.f_key) {
                    Some(kn) => self.key(kn),
                    None => Key::Unknown,
                };
                let v = self.field(b, k.f_value).map_or(NONE, |x| self.expr(x));
                if v != NONE {
                    self.op(Op::SubStore {
                        base: dst,
                        key,
                        src: v,
                        site: NONE,
                    });
                }
            } else {
                let v = self.expr(b);
                if v != NONE {
                    self.op(Op::SubStore {
                        base: dst,
                        key: Key::Unknown,
                        src: v,
                        site: NONE,
                    });
                }
            }
        }
        // Comprehension variables do not outlive the comprehension, but a walrus inside it
        // binds in the enclosing scope: only roll back if nothing but bindings happened.
        self.frame().flow.rollback(mark);
        dst
    }

    #[inline(never)]
    fn yield_expr(&mut self, n: TsNode<'t>) -> NodeId {
        let def = self.cur_def();
        let is_from = {
            let ch = self.children(n, false);
            let f = ch.iter().any(|c| !c.is_named() && self.text(*c) == "from");
            self.recycle(ch);
            f
        };
        let value = match self.first_named(n) {
            Some(v) => self.expr_or_tuple(v),
            None => NONE,
        };
        if def == 0 {
            return NONE;
        }
        if self.defs[def as usize].kind != DefKind::Function
            && self.defs[def as usize].kind != DefKind::Lambda
        {
            return NONE;
        }
        let mut yields = self.defs[def as usize].yields;
        if yields == NONE {
            yields = self.new_node();
            self.mark_iface(yields, IF_YIELDS, def, 0);
            self.defs[def as usize].yields = yields;
        }
        if value != NONE {
            if is_from {
                self.op(Op::Elems {
                    dst: yields,
                    src: value,
                });
            } else {
                self.copy(yields, value);
            }
        }
        NONE
    }

    #[inline(never)]
    fn call(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let func = self.field(n, k.f_function);
        let callee = func.map_or(NONE, |f| self.expr(f));
        // The callee's `attribute` field, when walking it just looked it up.
        let func_attr = match (func, self.last_attribute) {
            (Some(f), Some((id, attr))) if id == f.id() => {
                debug_assert_eq!(attr, self.field(f, k.f_attribute));
                Some(attr)
            }
            _ => None,
        };
        let argsn = self.field(n, k.f_arguments);
        let mut args = Vec::new();
        let mut nargs = 0usize;
        if let Some(a) = argsn {
            if a.kind_id() == k.generator_expression {
                args.push(Arg::Pos(self.expr(a)));
                nargs += 1;
            } else {
                let ch = self.children(a, true);
                nargs = ch.len();
                for &c in &ch {
                    let ck = c.kind_id();
                    if ck == k.keyword_argument {
                        let name = self.field(c, k.f_name).map(|x| self.sym(x));
                        let v = self.field(c, k.f_value).map_or(NONE, |x| self.expr(x));
                        if let Some(name) = name {
                            args.push(Arg::Kw(name, v));
                        }
                    } else if ck == k.list_splat {
                        let v = self.first_named(c).map_or(NONE, |x| self.expr(x));
                        args.push(Arg::Star(v));
                    } else if ck == k.dictionary_splat {
                        let v = self.first_named(c).map_or(NONE, |x| self.expr(x));
                        args.push(Arg::KwStar(v));
                    } else {
                        args.push(Arg::Pos(self.expr(c)));
                    }
                }
                self.recycle(ch);
            }
        }
        if let Some(f) = func {
            self.special_call(f, argsn);
        }
        let updates = func.is_some_and(|f| {
            f.kind_id() == k.attribute
                && func_attr
                    .unwrap_or_else(|| self.field(f, k.f_attribute))
                    .is_some_and(|a| self.text(a) == "update")
        });
        if updates || !self.paths_of.is_empty() {
            self.call_effects_on_paths(func, argsn, &args);
        }
        if callee == NONE {
            return NONE;
        }
        let mut super_class = NONE;
        if let Some(f) = func {
            if nargs == 0 && f.kind_id() == k.identifier && self.text(f) == "super" {
                let def = self.cur_def();
                super_class = self.defs.get(def as usize).map_or(NONE, |d| d.class);
            }
        }
        let site = self.site(n);
        let dst = self.new_node();
        let args_start = self.args.len() as u32;
        args.truncate(MAX_CALL_ARGS);
        let args_len = args.len() as u16;
        self.args.extend(args);
        self.op(Op::Call {
            site,
            callee,
            args_start,
            args_len,
            dst,
            flags: 0,
            aux: super_class,
        });
        dst
    }

    /// A call may change the containers it is given: forget what is known of their entries.
    /// `d.update({literal})` is a set of strong updates.
    fn call_effects_on_paths(
        &mut self,
        func: Option<TsNode<'t>>,
        argsn: Option<TsNode<'t>>,
        args: &[Arg],
    ) {
        let k = self.k;
        if let Some(a) = argsn {
            if a.kind_id() == k.argument_list {
                let ch = self.children(a, true);
                for &c in &ch {
                    if c.kind_id() == k.identifier {
                        let sym = self.sym(c);
                        self.kill_paths_of(sym);
                    }
                }
                self.recycle(ch);
            }
        }
        let Some(f) = func else { return };
        if f.kind_id() != k.attribute {
            return;
        }
        let (Some(obj), Some(attr)) = (self.field(f, k.f_object), self.field(f, k.f_attribute))
        else {
            return;
        };
        if obj.kind_id() != k.identifier {
            return;
        }
        let method = self.text(attr);
        if matches!(
            method,
            "get" | "keys" | "values" | "items" | "copy" | "count" | "index"
        ) {
            return;
        }
        let sym = self.sym(obj);
        if method == "update" && args.len() == 1 {
            if let Arg::Pos(d) = args[0] {
                if let Some(entries) = self.literal_dicts.get(&d).cloned() {
                    for (key, v) in entries {
                        self.set_path(sym, &[key], v);
                    }
                    return;
                }
            }
        }
        self.kill_paths_of(sym);
    }

    /// A store through a computed key: forget the entries of the container it names.
    fn kill_paths_under(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let mut cur = n;
        let mut steps = 0;
        while cur.kind_id() == k.subscript && steps < 64 {
            steps += 1;
            match self.field(cur, k.f_value) {
                Some(v) => cur = v,
                None => return,
            }
        }
        if cur.kind_id() == k.identifier {
            let sym = self.sym(cur);
            self.kill_paths_of(sym);
        }
    }

    /// Calls that change what a module exports: `__all__.extend([...])`, `__all__.append(x)`.
    fn special_call(&mut self, f: TsNode<'t>, args: Option<TsNode<'t>>) {
        let k = self.k;
        if f.kind_id() != k.attribute || self.cur_def() != 0 {
            return;
        }
        let (Some(obj), Some(attr)) = (self.field(f, k.f_object), self.field(f, k.f_attribute))
        else {
            return;
        };
        if obj.kind_id() == k.identifier
            && self.text(obj) == "__all__"
            && matches!(self.text(attr), "extend" | "append")
        {
            if let Some(a) = args {
                self.collect_all(a, true);
            }
        }
    }

    fn static_ref(&mut self, n: TsNode<'t>) -> Option<StaticRef> {
        let k = self.k;
        let mut path = Vec::new();
        let mut cur = n;
        loop {
            let ck = cur.kind_id();
            if ck == k.identifier {
                path.push(self.sym(cur));
                break;
            } else if ck == k.attribute {
                let attr = self.field(cur, k.f_attribute)?;
                path.push(self.sym(attr));
                cur = self.field(cur, k.f_object)?;
            } else {
                return None;
            }
            if path.len() > 32 {
                return None;
            }
        }
        path.reverse();
        Some(StaticRef {
            scope: self.cur_def(),
            path: path.into_boxed_slice(),
        })
    }

    // ----- definitions ---------------------------------------------------------------------

    fn decorated(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let ch = self.children(n, true);
        let decorators: Vec<TsNode<'t>> = ch
            .iter()
            .copied()
            .filter(|c| c.kind_id() == k.decorator)
            .collect();
        self.recycle(ch);
        let Some(def) = self.field(n, k.f_definition) else {
            for d in decorators {
                if let Some(e) = self.first_named(d) {
                    self.expr(e);
                }
            }
            return;
        };
        if def.kind_id() == k.class_definition {
            self.class_def(def, &decorators);
        } else {
            self.function_def(def, &decorators);
        }
    }

    fn qualname(&self, name: &str) -> String {
        let parent = self.cur_def();
        let prefix = self.defs.get(parent as usize).map_or("", |d| &d.qualname);
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    }

    /// Evaluates decorator expressions; returns their nodes and how they make a method bind.
    fn decorators(&mut self, decorators: &[TsNode<'t>]) -> (Vec<(NodeId, TsNode<'t>)>, MethodKind) {
        let k = self.k;
        let mut kind = MethodKind::Instance;
        let mut out = Vec::new();
        for &d in decorators {
            let Some(e) = self.first_named(d) else {
                continue;
            };
            let text = self.text(e);
            let last = text.rsplit('.').next().unwrap_or(text).trim();
            if e.kind_id() == k.identifier || e.kind_id() == k.attribute {
                if last == "staticmethod" {
                    kind = MethodKind::Static;
                } else if last == "classmethod" {
                    kind = MethodKind::Class;
                } else if last.ends_with("property")
                    || (e.kind_id() == k.attribute
                        && matches!(last, "setter" | "getter" | "deleter"))
                {
                    kind = MethodKind::Property;
                }
            }
            let v = self.expr(e);
            out.push((v, d));
        }
        (out, kind)
    }

    fn apply_decorators(
        &mut self,
        def: DefIdx,
        value: NodeId,
        decorators: &[(NodeId, TsNode<'t>)],
    ) -> NodeId {
        if !decorators.is_empty() {
            if let Some(d) = self.defs.get_mut(def as usize) {
                d.decorated = true;
            }
        }
        let mut cur = value;
        for &(dec, d) in decorators.iter().rev() {
            if dec == NONE {
                continue;
            }
            let site = self.site(d);
            let dst = self.new_node();
            let args_start = self.args.len() as u32;
            self.args.push(Arg::Pos(cur));
            self.op(Op::Call {
                site,
                callee: dec,
                args_start,
                args_len: 1,
                dst,
                flags: CALL_DECORATOR,
                aux: def,
            });
            cur = dst;
        }
        cur
    }

    #[inline(never)]
    fn function_def(&mut self, n: TsNode<'t>, decorators: &[TsNode<'t>]) {
        let k = self.k;
        let Some(name_node) = self.field(n, k.f_name) else {
            self.error_node(n);
            return;
        };
        let name = self.text(name_node);
        let name_sym = self.sym(name_node);
        let (decs, mut method) = self.decorators(decorators);
        let parent = self.cur_def();
        let in_class = self.defs.get(parent as usize).map(|d| d.kind) == Some(DefKind::Class);
        if !in_class {
            method = MethodKind::None;
        } else if method == MethodKind::Instance
            && matches!(name, "__new__" | "__init_subclass__" | "__class_getitem__")
        {
            method = if name == "__new__" {
                MethodKind::Static
            } else {
                MethodKind::Class
            };
        }
        let qual = self.qualname(name);
        let params_node = self.field(n, k.f_parameters);
        let params = match params_node {
            Some(p) => self.params(p),
            None => Vec::new(),
        };
        let range_node = if decorators.is_empty() {
            n
        } else {
            n.parent().unwrap_or(n)
        };
        let def = self.new_def(DefKind::Function, qual, range_node, Some(name_node));
        let is_async = n
            .child(0)
            .is_some_and(|c| !c.is_named() && self.text(c) == "async");
        let class = if in_class { parent } else { NONE };
        self.finish_params(def, params, method, class, name == "__new__");
        {
            let d = &mut self.defs[def as usize];
            d.method = method;
            d.class = class;
            d.is_async = is_async;
        }
        let fv = self.new_node();
        self.op(Op::Def { dst: fv, def });
        let bound = self.apply_decorators(def, fv, &decs);
        if method == MethodKind::Property && bound != fv {
            self.copy(bound, fv);
        }
        self.write(name_sym, bound);
        self.add_static(name_sym, StaticBinding::Def(def));
        // The body.
        self.push_frame(def);
        let ps: Vec<(Sym, NodeId)> = self.defs[def as usize]
            .params
            .iter()
            .map(|p| (p.name, p.node))
            .collect();
        for (sym, node) in ps {
            self.bind_param(def, sym, node);
        }
        if let Some(body) = self.field(n, k.f_body) {
            self.block(body);
        }
        self.frames.pop();
    }

    fn bind_param(&mut self, def: DefIdx, sym: Sym, node: NodeId) {
        let var = self.scopes[def as usize].vars.entry(sym).or_default();
        var.versions.push(node);
        var.local = true;
        self.frame().flow.set(sym, node);
    }

    /// Reads a parameter list; default values are evaluated here, in the enclosing scope.
    fn params(&mut self, p: TsNode<'t>) -> Vec<(ParamFact, NodeId)> {
        let k = self.k;
        let ch = self.children(p, true);
        let mut out = Vec::new();
        let mut keyword_only = false;
        for &c in &ch {
            let ck = c.kind_id();
            let mut name = None;
            let mut default = NONE;
            let mut kind = if keyword_only {
                ParamKind::KeywordOnly
            } else {
                ParamKind::Positional
            };
            if ck == k.identifier {
                name = Some(c);
            } else if ck == k.default_parameter || ck == k.typed_default_parameter {
                name = self.field(c, k.f_name);
                default = self.field(c, k.f_value).map_or(NONE, |v| self.expr(v));
            } else if ck == k.typed_parameter {
                let inner = self.first_named(c);
                match inner {
                    Some(i) if i.kind_id() == k.identifier => name = Some(i),
                    Some(i) if i.kind_id() == k.list_splat_pattern => {
                        name = self.first_named(i);
                        kind = ParamKind::VarArgs;
                        keyword_only = true;
                    }
                    Some(i) if i.kind_id() == k.dictionary_splat_pattern => {
                        name = self.first_named(i);
                        kind = ParamKind::VarKeywords;
                    }
                    _ => {}
                }
            } else if ck == k.list_splat_pattern {
                name = self.first_named(c);
                kind = ParamKind::VarArgs;
                keyword_only = true;
            } else if ck == k.dictionary_splat_pattern {
                name = self.first_named(c);
                kind = ParamKind::VarKeywords;
            } else if ck == k.keyword_separator {
                keyword_only = true;
                continue;
            } else if ck == k.tuple_pattern {
                // A Python 2 unpacked parameter: a positional slot with no name.
            } else {
                continue;
            }
            let name_sym = match name {
                Some(x) if x.kind_id() == k.identifier => self.sym(x),
                _ => self.strings.intern(""),
            };
            let node = self.new_node();
            out.push((
                ParamFact {
                    name: name_sym,
                    node,
                    kind,
                    alloc: NONE,
                },
                default,
            ));
        }
        self.recycle(ch);
        out
    }

    fn finish_params(
        &mut self,
        def: DefIdx,
        params: Vec<(ParamFact, NodeId)>,
        method: MethodKind,
        class: DefIdx,
        is_new: bool,
    ) {
        let mut facts = Vec::with_capacity(params.len());
        for (i, (mut p, default)) in params.into_iter().enumerate() {
            self.mark_iface(p.node, IF_PARAM, def, i as u32);
            // The default is evaluated in the enclosing scope: its copy belongs there.
            self.copy(p.node, default);
            let saved = self.owner;
            self.owner = def;
            match p.kind {
                ParamKind::VarArgs | ParamKind::VarKeywords => {
                    let alloc = self.new_alloc();
                    let kind = if p.kind == ParamKind::VarArgs {
                        ContainerKind::Tuple
                    } else {
                        ContainerKind::Dict
                    };
                    self.op(Op::Alloc {
                        dst: p.node,
                        kind,
                        alloc,
                    });
                    p.alloc = alloc;
                }
                _ => {}
            }
            if i == 0 && class != NONE && p.kind == ParamKind::Positional {
                match method {
                    MethodKind::Instance | MethodKind::Property => self.op(Op::SelfOf {
                        dst: p.node,
                        class,
                        cls: false,
                    }),
                    MethodKind::Class => self.op(Op::SelfOf {
                        dst: p.node,
                        class,
                        cls: true,
                    }),
                    MethodKind::Static if is_new => self.op(Op::SelfOf {
                        dst: p.node,
                        class,
                        cls: true,
                    }),
                    _ => {}
                }
            }
            self.owner = saved;
            facts.push(p);
        }
        self.defs[def as usize].params = facts;
    }

    #[inline(never)]
    fn lambda(&mut self, n: TsNode<'t>) -> NodeId {
        let k = self.k;
        let parent = self.cur_def();
        let counter = {
            let scope = &mut self.scopes[parent as usize];
            scope.lambdas += 1;
            scope.lambdas
        };
        let qual = self.qualname(&format!("<lambda{counter}>"));
        let params = match self.field(n, k.f_parameters) {
            Some(p) => self.params(p),
            None => Vec::new(),
        };
        let def = self.new_def(DefKind::Lambda, qual, n, None);
        self.finish_params(def, params, MethodKind::None, NONE, false);
        self.push_frame(def);
        let ps: Vec<(Sym, NodeId)> = self.defs[def as usize]
            .params
            .iter()
            .map(|p| (p.name, p.node))
            .collect();
        for (sym, node) in ps {
            self.bind_param(def, sym, node);
        }
        let body = self.field(n, k.f_body).map_or(NONE, |b| self.expr(b));
        let ret = self.defs[def as usize].ret;
        self.copy(ret, body);
        self.frames.pop();
        let dst = self.new_node();
        self.op(Op::Def { dst, def });
        dst
    }

    #[inline(never)]
    fn class_def(&mut self, n: TsNode<'t>, decorators: &[TsNode<'t>]) {
        let k = self.k;
        let Some(name_node) = self.field(n, k.f_name) else {
            self.error_node(n);
            return;
        };
        let name = self.text(name_node);
        let name_sym = self.sym(name_node);
        let (decs, _) = self.decorators(decorators);
        let mut bases = Vec::new();
        let mut base_refs = Vec::new();
        if let Some(sup) = self.field(n, k.f_superclasses) {
            let ch = self.children(sup, true);
            for &c in &ch {
                if c.kind_id() == k.keyword_argument {
                    if let Some(v) = self.field(c, k.f_value) {
                        self.expr(v);
                    }
                } else if c.kind_id() == k.list_splat || c.kind_id() == k.dictionary_splat {
                    self.expr(c);
                } else {
                    let v = self.expr(c);
                    let sref = self.static_ref(c);
                    bases.push(v);
                    base_refs.push(sref);
                }
            }
            self.recycle(ch);
        }
        let qual = self.qualname(name);
        let range_node = if decorators.is_empty() {
            n
        } else {
            n.parent().unwrap_or(n)
        };
        let def = self.new_def(DefKind::Class, qual, range_node, Some(name_node));
        {
            self.defs[def as usize].edit_class_parts(|c| {
                c.bases = bases;
                c.base_refs = base_refs;
            });
        }
        self.push_frame(def);
        if let Some(body) = self.field(n, k.f_body) {
            self.block(body);
        }
        self.frames.pop();
        let cv = self.new_node();
        self.op(Op::Def { dst: cv, def });
        let bound = self.apply_decorators(def, cv, &decs);
        self.write(name_sym, bound);
        self.add_static(name_sym, StaticBinding::Def(def));
    }

    // ----- imports -------------------------------------------------------------------------

    fn dotted(&mut self, n: TsNode<'t>) -> String {
        let ch = self.children(n, true);
        let mut out = String::new();
        for &c in &ch {
            if c.kind_id() == self.k.identifier {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(self.text(c));
            }
        }
        self.recycle(ch);
        out
    }

    fn import_stmt(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let ch = self.fielded_children(n);
        for &(c, field) in &ch {
            if field != k.f_name {
                continue;
            }
            if c.kind_id() == k.dotted_name {
                let path = self.dotted(c);
                let first = path.split('.').next().unwrap_or("").to_string();
                if first.is_empty() {
                    continue;
                }
                let module = self.strings.intern(&path);
                let dst = self.new_node();
                self.op(Op::Import {
                    dst,
                    module,
                    attr: NONE,
                    top: true,
                });
                let sym = self.strings.intern(&first);
                self.write(sym, dst);
                self.add_static(
                    sym,
                    StaticBinding::Import {
                        module,
                        attr: NONE,
                        top: true,
                    },
                );
            } else if c.kind_id() == k.aliased_import {
                let (Some(name), Some(alias)) = (self.field(c, k.f_name), self.field(c, k.f_alias))
                else {
                    continue;
                };
                let path = self.dotted(name);
                let module = self.strings.intern(&path);
                let dst = self.new_node();
                self.op(Op::Import {
                    dst,
                    module,
                    attr: NONE,
                    top: false,
                });
                let sym = self.sym(alias);
                self.write(sym, dst);
                self.add_static(
                    sym,
                    StaticBinding::Import {
                        module,
                        attr: NONE,
                        top: false,
                    },
                );
            }
        }
        self.recycle_fielded(ch);
    }

    /// The absolute name a `from` import refers to.
    fn imported_module(&mut self, m: TsNode<'t>) -> String {
        let k = self.k;
        if m.kind_id() == k.dotted_name {
            return self.dotted(m);
        }
        let mut level = 0usize;
        let mut rest = String::new();
        let ch = self.children(m, true);
        for &c in &ch {
            if c.kind_id() == k.import_prefix {
                level = self.text(c).chars().filter(|&ch| ch == '.').count();
            } else if c.kind_id() == k.dotted_name {
                rest = self.dotted(c);
            }
        }
        self.recycle(ch);
        resolve_relative(self.module_name, self.is_package, level, &rest)
    }

    fn import_from(&mut self, n: TsNode<'t>) {
        let k = self.k;
        let Some(m) = self.field(n, k.f_module_name) else {
            return;
        };
        let path = self.imported_module(m);
        let module = self.strings.intern(&path);
        let ch = self.fielded_children(n);
        for &(c, field) in &ch {
            if c.kind_id() == k.wildcard_import {
                if !self.star_imports.contains(&module) {
                    self.star_imports.push(module);
                }
                continue;
            }
            if field != k.f_name {
                continue;
            }
            let (name, alias) = if c.kind_id() == k.aliased_import {
                match (self.field(c, k.f_name), self.field(c, k.f_alias)) {
                    (Some(nm), Some(al)) => (self.dotted(nm), self.text(al).to_string()),
                    _ => continue,
                }
            } else {
                let d = self.dotted(c);
                (d.clone(), d)
            };
            if name.is_empty() || alias.is_empty() {
                continue;
            }
            let attr = self.strings.intern(&name);
            let dst = self.new_node();
            self.op(Op::Import {
                dst,
                module,
                attr,
                top: false,
            });
            let sym = self.strings.intern(&alias);
            self.write(sym, dst);
            self.add_static(
                sym,
                StaticBinding::Import {
                    module,
                    attr,
                    top: false,
                },
            );
        }
        self.recycle_fielded(ch);
    }

    // ----- the end -------------------------------------------------------------------------

    fn all_of(&mut self, def: DefIdx, sym: Sym) -> NodeId {
        if let Some(all) = self.scopes[def as usize].vars.get(&sym).and_then(|v| v.all) {
            return all;
        }
        let n = self.new_node();
        self.mark_iface(n, IF_ALL, def, sym);
        self.scopes[def as usize].vars.entry(sym).or_default().all = Some(n);
        n
    }

    /// Fills `p` with a name the module never binds (star imports, then builtins).
    fn fallback_into(&mut self, p: NodeId, sym: Sym) {
        self.op(Op::Fallback { dst: p, name: sym });
    }

    /// The node a free name of `scope`'s code resolves to in the enclosing scopes (functions,
    /// then the module; class scopes are skipped), or None when the module never binds it (it
    /// comes from a star import or the builtins).
    fn resolve_outer(&mut self, scope: DefIdx, sym: Sym) -> Option<NodeId> {
        let mut p = self.defs.get(scope as usize).map_or(NONE, |d| d.parent);
        let mut steps = 0;
        while p != NONE && steps < 10_000 {
            steps += 1;
            let kind = self.defs[p as usize].kind;
            match kind {
                DefKind::Class => {}
                DefKind::Module => {
                    if self.scopes[0].vars.get(&sym).is_some_and(|v| v.local) {
                        return Some(self.module_var_all(sym));
                    }
                    return None;
                }
                DefKind::Function | DefKind::Lambda => {
                    if self.scopes[p as usize]
                        .vars
                        .get(&sym)
                        .is_some_and(|v| v.local)
                    {
                        return Some(self.all_of(p, sym));
                    }
                }
            }
            p = self.defs[p as usize].parent;
        }
        None
    }

    /// Fills placeholder `p` of `scope`'s code with free name `sym`.
    fn resolve_into(&mut self, p: NodeId, scope: DefIdx, sym: Sym) {
        match self.resolve_outer(scope, sym) {
            Some(src) => self.copy(p, src),
            None => self.fallback_into(p, sym),
        }
    }

    fn finish(mut self) -> ModuleFacts {
        // Free reads.
        let reads = std::mem::take(&mut self.free_reads);
        for (p, sym, def) in reads {
            self.owner = def;
            let kind = self.defs[def as usize].kind;
            match kind {
                DefKind::Module => {
                    // Module code reading a name no module-level definition reaches: a
                    // function may have set it with `global`, or it comes from a star import
                    // or the builtins.
                    if let Some(remote) = self.scopes[0].vars.get(&sym).and_then(|v| v.remote) {
                        self.copy(p, remote);
                    }
                    self.fallback_into(p, sym);
                }
                DefKind::Class => self.resolve_into(p, def, sym),
                DefKind::Function | DefKind::Lambda => {
                    if self.scopes[def as usize]
                        .vars
                        .get(&sym)
                        .is_some_and(|v| v.local)
                    {
                        // A local read before its assignment (or only reached through a loop).
                        continue;
                    }
                    self.resolve_into(p, def, sym);
                }
            }
        }
        let reads = std::mem::take(&mut self.nonlocal_reads);
        for (p, sym, def) in reads {
            self.owner = def;
            self.resolve_into(p, def, sym);
        }
        let writes = std::mem::take(&mut self.nonlocal_writes);
        for (value, sym, def) in writes {
            self.owner = def;
            let mut p = self.defs[def as usize].parent;
            let mut steps = 0;
            while p != NONE && steps < 10_000 {
                steps += 1;
                let kind = self.defs[p as usize].kind;
                if matches!(kind, DefKind::Function | DefKind::Lambda)
                    && self.scopes[p as usize]
                        .vars
                        .get(&sym)
                        .is_some_and(|v| v.local)
                {
                    let remote = match self.scopes[p as usize]
                        .vars
                        .get(&sym)
                        .and_then(|v| v.remote)
                    {
                        Some(r) => r,
                        None => {
                            let r = self.new_node();
                            self.mark_iface(r, IF_REMOTE, p, sym);
                            if let Some(v) = self.scopes[p as usize].vars.get_mut(&sym) {
                                v.remote = Some(r);
                            }
                            r
                        }
                    };
                    self.copy(remote, value);
                    break;
                }
                p = self.defs[p as usize].parent;
            }
        }
        // Connect versions to the all-nodes and remote writes to versions.
        let mut globals = Vec::new();
        for def in 0..self.defs.len() {
            self.owner = def as u32;
            let kind = self.defs[def].kind;
            let mut syms: Vec<Sym> = self.scopes[def].vars.keys().copied().collect();
            syms.sort_unstable();
            let mut attrs = Vec::new();
            for sym in syms {
                let (versions, remote, all, local) = {
                    let v = &self.scopes[def].vars[&sym];
                    (v.versions.clone(), v.remote, v.all, v.local)
                };
                let all = match (kind, all) {
                    (_, Some(a)) => Some(a),
                    (DefKind::Module, None) | (DefKind::Class, None) if local => {
                        let n = self.new_node();
                        self.mark_iface(n, IF_ALL, def as u32, sym);
                        Some(n)
                    }
                    _ => None,
                };
                if let Some(a) = all {
                    for &v in &versions {
                        self.copy(a, v);
                    }
                    if let Some(r) = remote {
                        self.copy(a, r);
                    }
                }
                if let Some(r) = remote {
                    for &v in &versions {
                        self.copy(v, r);
                    }
                }
                if let Some(a) = all {
                    match kind {
                        DefKind::Module if local => globals.push((sym, a)),
                        DefKind::Class => attrs.push((sym, a)),
                        _ => {}
                    }
                }
            }
            let mut statics = std::mem::take(&mut self.scopes[def].statics);
            statics.sort_by_key(|(s, _)| *s);
            self.defs[def].edit_class_parts(|c| c.attrs = attrs);
            self.defs[def].statics = statics;
        }
        let mut self_attrs = std::mem::take(&mut self.self_attrs);
        self_attrs.sort_unstable();
        self_attrs.dedup();
        for (class, attr) in self_attrs {
            if let Some(d) = self.defs.get_mut(class as usize) {
                d.edit_class_parts(|c| c.self_attrs.push(attr));
            }
        }
        self.owner = NONE;
        globals.sort_unstable();
        let mut facts = ModuleFacts {
            name: self.module_name.into(),
            is_package: self.is_package,
            strings: StringTable::default(),
            num_nodes: self.next_node,
            interface_nodes: 0,
            interface_keys: Vec::new(),
            num_allocs: self.num_allocs,
            defs: std::mem::take(&mut self.defs),
            ops: std::mem::take(&mut self.ops),
            args: std::mem::take(&mut self.args),
            sites: std::mem::take(&mut self.sites),
            globals,
            star_imports: std::mem::take(&mut self.star_imports),
            all_names: self.all_names.take(),
            load_aliases: Vec::new(),
        };
        self.canonical_layout(&mut facts);
        facts.strings = std::mem::take(&mut self.strings).into_strings();
        // The facts are kept for the life of the index: give back what growing left unused.
        facts.defs.shrink_to_fit();
        for d in &mut facts.defs {
            d.params.shrink_to_fit();
            d.edit_class_parts(|c| {
                c.bases.shrink_to_fit();
                c.base_refs.shrink_to_fit();
                c.attrs.shrink_to_fit();
                c.self_attrs.shrink_to_fit();
            });
            d.statics.shrink_to_fit();
        }
        facts.strings.shrink_to_fit();
        facts.globals.shrink_to_fit();
        facts.star_imports.shrink_to_fit();
        facts.interface_keys.shrink_to_fit();
        facts
    }

    /// Renumbers nodes, ops, call sites and allocation sites so that the facts of an edited
    /// module can be compared with the previous version definition by definition: interface
    /// nodes first, in an order that does not depend on where in the source they were made
    /// (by kind, definition and name), then each definition's own nodes, ops, sites and
    /// allocations, contiguously and in source order. An edit inside one function's body then
    /// changes that function's part only.
    fn canonical_layout(&mut self, f: &mut ModuleFacts) {
        let n = f.num_nodes as usize;
        // Nodes.
        let mut iface = std::mem::take(&mut self.iface);
        let mut seen = vec![false; n];
        iface.retain(|x| match seen.get_mut(x.0 as usize) {
            Some(s) if !*s => {
                *s = true;
                true
            }
            _ => false,
        });
        let strings = &self.strings;
        // Stable, as `sort_by` with the same keys, with each name looked up once.
        iface.sort_by_cached_key(|x| -> (u8, DefIdx, &str, u32) {
            match x.1 {
                IF_ALL | IF_REMOTE => (x.1, x.2, strings.resolve(x.3), 0),
                _ => (x.1, x.2, "", x.3),
            }
        });
        let mut order: Vec<NodeId> = iface.iter().map(|x| x.0).collect();
        let interface = order.len() as u32;
        let mut body: Vec<NodeId> = (0..n as u32)
            .filter(|&x| self.node_owner.get(x as usize).copied() != Some(IFACE))
            .collect();
        let defs = f.defs.len();
        sort_by_small_key(&mut body, defs, |x| {
            self.node_owner.get(x as usize).copied().unwrap_or(0)
        });
        order.extend(&body);
        let mut new_node = vec![NONE; n];
        for (i, &old) in order.iter().enumerate() {
            if let Some(slot) = new_node.get_mut(old as usize) {
                *slot = i as NodeId;
            }
        }
        let map = |x: NodeId| -> NodeId {
            if x == NONE {
                NONE
            } else {
                new_node.get(x as usize).copied().unwrap_or(NONE)
            }
        };
        // Body node ranges per definition.
        let mut pos = interface;
        for (d, def) in f.defs.iter_mut().enumerate() {
            let start = pos;
            while (pos as usize) < order.len()
                && self.node_owner.get(order[pos as usize] as usize).copied() == Some(d as u32)
            {
                pos += 1;
            }
            def.body = (start, pos);
        }
        // Allocation sites.
        let na = f.num_allocs as usize;
        let mut allocs: Vec<AllocIdx> = (0..na as u32).collect();
        sort_by_small_key(&mut allocs, defs, |a| {
            self.alloc_owner.get(a as usize).copied().unwrap_or(0)
        });
        let mut new_alloc = vec![NONE; na];
        for (i, &old) in allocs.iter().enumerate() {
            new_alloc[old as usize] = i as AllocIdx;
        }
        let amap = |a: AllocIdx| -> AllocIdx { new_alloc.get(a as usize).copied().unwrap_or(NONE) };
        let mut pos = 0u32;
        for (d, def) in f.defs.iter_mut().enumerate() {
            let start = pos;
            while (pos as usize) < allocs.len()
                && self.alloc_owner.get(allocs[pos as usize] as usize).copied() == Some(d as u32)
            {
                pos += 1;
            }
            def.allocs = (start, pos);
        }
        // Call sites (grouped by the definition whose code they are in).
        let ns = f.sites.len();
        let mut sites: Vec<SiteIdx> = (0..ns as u32).collect();
        sort_by_small_key(&mut sites, defs, |x| f.sites[x as usize].caller);
        let mut new_site = vec![NONE; ns];
        for (i, &old) in sites.iter().enumerate() {
            new_site[old as usize] = i as SiteIdx;
        }
        let smap = |x: SiteIdx| -> SiteIdx {
            if x == NONE {
                NONE
            } else {
                new_site.get(x as usize).copied().unwrap_or(NONE)
            }
        };
        let old_sites = std::mem::take(&mut f.sites);
        f.sites = sites.iter().map(|&x| old_sites[x as usize]).collect();
        let mut pos = 0u32;
        for (d, def) in f.defs.iter_mut().enumerate() {
            let start = pos;
            while (pos as usize) < f.sites.len() && f.sites[pos as usize].caller == d as u32 {
                pos += 1;
            }
            def.sites = (start, pos);
        }
        // Ops, grouped by owner, with their arguments laid out again in op order.
        let no = f.ops.len();
        let mut ops: Vec<usize> = (0..no).collect();
        sort_by_small_key(&mut ops, defs, |i| {
            self.op_owner.get(i).copied().unwrap_or(0)
        });
        let old_ops = std::mem::take(&mut f.ops);
        let old_args = std::mem::take(&mut f.args);
        let key = |k: Key| -> Key {
            match k {
                Key::Node(x) => Key::Node(map(x)),
                other => other,
            }
        };
        let arg = |a: Arg| -> Arg {
            match a {
                Arg::Pos(x) => Arg::Pos(map(x)),
                Arg::Kw(s, x) => Arg::Kw(s, map(x)),
                Arg::Star(x) => Arg::Star(map(x)),
                Arg::KwStar(x) => Arg::KwStar(map(x)),
            }
        };
        let mut new_ops = Vec::with_capacity(no);
        let mut new_args = Vec::with_capacity(old_args.len());
        for &i in &ops {
            let op = match old_ops[i] {
                Op::Const { dst, c } => Op::Const { dst: map(dst), c },
                Op::Def { dst, def } => Op::Def { dst: map(dst), def },
                Op::SelfOf { dst, class, cls } => Op::SelfOf {
                    dst: map(dst),
                    class,
                    cls,
                },
                Op::Alloc { dst, kind, alloc } => Op::Alloc {
                    dst: map(dst),
                    kind,
                    alloc: amap(alloc),
                },
                Op::Copy { dst, src } => Op::Copy {
                    dst: map(dst),
                    src: map(src),
                },
                Op::CopyObj { dst, src } => Op::CopyObj {
                    dst: map(dst),
                    src: map(src),
                },
                Op::Load {
                    dst,
                    base,
                    attr,
                    site,
                } => Op::Load {
                    dst: map(dst),
                    base: map(base),
                    attr,
                    site: smap(site),
                },
                Op::Store { base, attr, src } => Op::Store {
                    base: map(base),
                    attr,
                    src: map(src),
                },
                Op::SubLoad {
                    dst,
                    base,
                    key: k,
                    site,
                    unpack,
                } => Op::SubLoad {
                    dst: map(dst),
                    base: map(base),
                    key: key(k),
                    site: smap(site),
                    unpack,
                },
                Op::SubStore {
                    base,
                    key: k,
                    src,
                    site,
                } => Op::SubStore {
                    base: map(base),
                    key: key(k),
                    src: map(src),
                    site: smap(site),
                },
                Op::Slice {
                    dst,
                    base,
                    lo,
                    hi,
                    alloc,
                } => Op::Slice {
                    dst: map(dst),
                    base: map(base),
                    lo,
                    hi,
                    alloc: amap(alloc),
                },
                Op::Elems { dst, src } => Op::Elems {
                    dst: map(dst),
                    src: map(src),
                },
                Op::Call {
                    site,
                    callee,
                    args_start,
                    args_len,
                    dst,
                    flags,
                    aux,
                } => {
                    let start = new_args.len() as u32;
                    let from = (args_start as usize).min(old_args.len());
                    let to = (args_start as usize + args_len as usize).min(old_args.len());
                    new_args.extend(old_args[from..to].iter().map(|&a| arg(a)));
                    Op::Call {
                        site: smap(site),
                        callee: map(callee),
                        args_start: start,
                        args_len: (to - from) as u16,
                        dst: map(dst),
                        flags,
                        aux,
                    }
                }
                Op::Raise { site, src } => Op::Raise {
                    site: smap(site),
                    src: map(src),
                },
                Op::IterStart { site, src, dst } => Op::IterStart {
                    site: smap(site),
                    src: map(src),
                    dst: map(dst),
                },
                Op::IterNext { site, src, dst } => Op::IterNext {
                    site: smap(site),
                    src: map(src),
                    dst: map(dst),
                },
                Op::With { site, src, dst } => Op::With {
                    site: smap(site),
                    src: map(src),
                    dst: map(dst),
                },
                Op::Import {
                    dst,
                    module,
                    attr,
                    top,
                } => Op::Import {
                    dst: map(dst),
                    module,
                    attr,
                    top,
                },
                Op::Fallback { dst, name } => Op::Fallback {
                    dst: map(dst),
                    name,
                },
            };
            new_ops.push(op);
        }
        f.ops = new_ops;
        f.args = new_args;
        let mut pos = 0u32;
        for (d, def) in f.defs.iter_mut().enumerate() {
            let start = pos;
            while (pos as usize) < ops.len()
                && self.op_owner.get(ops[pos as usize]).copied() == Some(d as u32)
            {
                pos += 1;
            }
            def.ops = (start, pos);
        }
        // Everything else that names nodes or allocations.
        f.for_each_def_node_mut(|x| *x = map(*x));
        for p in f.defs.iter_mut().flat_map(|d| &mut d.params) {
            if p.alloc != NONE {
                p.alloc = amap(p.alloc);
            }
        }
        f.interface_nodes = interface;
        f.interface_keys = iface.iter().map(|x| (x.1, x.2, x.3)).collect();
    }
}

/// Sorts `items` by `key` as the stable `sort_by_key` does, in linear time when every key is
/// below `buckets` (a counting sort): the keys here are definition indices.
fn sort_by_small_key<T: Copy>(items: &mut Vec<T>, buckets: usize, key: impl Fn(T) -> u32) {
    if items.iter().any(|&x| key(x) as usize >= buckets) {
        items.sort_by_key(|&x| key(x));
        return;
    }
    // starts[k]: where the items with key k go, advanced as they are placed.
    let mut starts = vec![0usize; buckets + 1];
    for &x in items.iter() {
        starts[key(x) as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut sorted = items.clone();
    for &x in items.iter() {
        let slot = &mut starts[key(x) as usize];
        sorted[*slot] = x;
        *slot += 1;
    }
    *items = sorted;
}

fn is_statement_kind(k: &K, kind: u16) -> bool {
    [
        k.expression_statement,
        k.return_statement,
        k.raise_statement,
        k.if_statement,
        k.for_statement,
        k.while_statement,
        k.try_statement,
        k.with_statement,
        k.match_statement,
        k.function_definition,
        k.class_definition,
        k.decorated_definition,
        k.import_statement,
        k.import_from_statement,
        k.global_statement,
        k.nonlocal_statement,
        k.block,
        k.assignment,
        k.augmented_assignment,
    ]
    .contains(&kind)
}

/// Parses a Python integer literal (decimal, hex, octal, binary; underscores; a Python 2 `L`).
fn parse_int(text: &str) -> Option<i32> {
    // Plain decimal digits, by far the most common literal, need none of the rewriting below.
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i32>().ok();
    }
    let t: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .trim_end_matches(['l', 'L'])
        .to_ascii_lowercase();
    let (digits, radix) = if let Some(rest) = t.strip_prefix("0x") {
        (rest, 16)
    } else if let Some(rest) = t.strip_prefix("0o") {
        (rest, 8)
    } else if let Some(rest) = t.strip_prefix("0b") {
        (rest, 2)
    } else {
        (t.as_str(), 10)
    };
    i32::from_str_radix(digits, radix).ok()
}

/// The absolute module a relative import names: `level` dots, then `rest`, from `module`.
pub(crate) fn resolve_relative(module: &str, is_package: bool, level: usize, rest: &str) -> String {
    if level == 0 {
        return rest.to_string();
    }
    let mut parts: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split('.').collect()
    };
    if !is_package {
        parts.pop();
    }
    for _ in 1..level {
        if parts.pop().is_none() {
            break;
        }
    }
    let mut out = parts.join(".");
    if !rest.is_empty() {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(rest);
    }
    out
}

/// A harness that checks a change to the walk leaves its output exactly as it was, run by hand
/// with one build before the change and one after, then comparing the two files:
///
/// ```text
/// EXTRACT_EQ_DIRS=/usr/lib/python3.11:/path/to/django EXTRACT_EQ_OUT=/tmp/after.tsv \
///   cargo test --release -p tandem --lib extract_equality -- --ignored --nocapture
/// diff /tmp/before.tsv /tmp/after.tsv
/// ```
///
/// With `EXTRACT_EQ_BASELINE=/tmp/before.tsv` it also compares the new lines with that file
/// and fails on the first difference.
///
/// For every Python file under the directories (colon-separated; found as the index finds
/// them, with `site-packages` folders below them left out) it writes `path\tHASH\tHASH` with
/// hashes of the `Debug` text of the facts after and before `simplify`. For every fifth file it also
/// writes lines for damaged versions of it: the first half, and the file without one line
/// chosen by a fixed seed. Without `EXTRACT_EQ_OUT` it only prints the time spent extracting
/// (trees are parsed beforehand, file by file, and only the extraction is timed, in CPU time
/// of the thread).
#[cfg(test)]
mod equality_harness {
    use std::fmt::Write as _;
    use std::hash::{Hash, Hasher};
    use std::path::PathBuf;
    use std::time::Duration;

    use super::{extract_unsimplified, simplify, SourceModule};
    use crate::analysis::parse::parse_str;
    use crate::session::config::WorkspaceConfig;
    use crate::session::workspace::{discover_python_files, package_module_name};

    /// The CPU time this thread has used: extraction is timed with it rather than with the
    /// clock, so that other work on a shared machine does not count.
    fn thread_cpu_time() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc knows.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    fn debug_hash(value: &impl std::fmt::Debug) -> u64 {
        // `DefaultHasher::new` uses fixed keys: the same text gives the same hash in every run
        // of the same toolchain.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{value:?}").hash(&mut h);
        h.finish()
    }

    /// FNV-1a, for a seed that depends on the path only.
    fn seed_of(s: &str) -> u64 {
        s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// The text without the line a seed picks.
    fn without_one_line(text: &str, seed: u64) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.is_empty() {
            return String::new();
        }
        let drop = (seed % lines.len() as u64) as usize;
        lines
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != drop)
            .map(|(_, l)| *l)
            .collect()
    }

    fn first_half(text: &str) -> &str {
        let mut end = text.len() / 2;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    #[derive(Default)]
    struct Totals {
        files: usize,
        unsimplified: Duration,
        simplify: Duration,
    }

    /// Extracts one text's facts, timing the two steps, and appends its hashes line.
    fn check(
        label: &str,
        name: &str,
        is_package: bool,
        text: &str,
        totals: &mut Totals,
        out: Option<&mut String>,
    ) {
        let tree = parse_str(text, None);
        let module = SourceModule {
            name,
            is_package,
            source: text,
            tree: &tree,
        };
        let t = thread_cpu_time();
        let mut facts = extract_unsimplified(&module);
        totals.unsimplified += thread_cpu_time() - t;
        let before = out.as_ref().map(|_| debug_hash(&facts));
        let t = thread_cpu_time();
        simplify::simplify(&mut facts);
        totals.simplify += thread_cpu_time() - t;
        totals.files += 1;
        if let (Some(out), Some(before)) = (out, before) {
            let after = debug_hash(&facts);
            let _ = writeln!(out, "{label}\t{after:016x}\t{before:016x}");
        }
    }

    #[test]
    #[ignore = "compares extraction output between builds; run by hand"]
    fn extract_equality() {
        let Ok(dirs) = std::env::var("EXTRACT_EQ_DIRS") else {
            println!("set EXTRACT_EQ_DIRS (and EXTRACT_EQ_OUT to write hashes)");
            return;
        };
        let out_path = std::env::var("EXTRACT_EQ_OUT").ok();
        let baseline = std::env::var("EXTRACT_EQ_BASELINE").ok();
        let roots: Vec<PathBuf> = dirs
            .split(':')
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect();
        let config = WorkspaceConfig {
            exclude: vec!["site-packages/".into()],
            ..WorkspaceConfig::default()
        };
        let files = discover_python_files(&roots, &config).files;
        let mut out = (out_path.is_some() || baseline.is_some()).then(String::new);
        let mut totals = Totals::default();
        let mut damaged = 0usize;
        for (i, path) in files.iter().enumerate() {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let module = package_module_name(path);
            let label = path.display().to_string();
            check(
                &label,
                &module.name,
                module.is_package,
                &text,
                &mut totals,
                out.as_mut(),
            );
            if let Some(out) = out.as_mut().filter(|_| i % 5 == 0) {
                let mut scratch = Totals::default();
                let half = first_half(&text);
                let cut = without_one_line(&text, seed_of(&label));
                for (suffix, damaged_text) in [("#half", half), ("#cut", cut.as_str())] {
                    check(
                        &format!("{label}{suffix}"),
                        &module.name,
                        module.is_package,
                        damaged_text,
                        &mut scratch,
                        Some(out),
                    );
                    damaged += 1;
                }
            }
        }
        println!(
            "extract_equality: {} files; extract {:.1} ms (unsimplified {:.1} ms, simplify {:.1} ms)",
            totals.files,
            (totals.unsimplified + totals.simplify).as_secs_f64() * 1e3,
            totals.unsimplified.as_secs_f64() * 1e3,
            totals.simplify.as_secs_f64() * 1e3,
        );
        let out = out.unwrap_or_default();
        if let Some(path) = out_path {
            std::fs::write(&path, &out).expect("EXTRACT_EQ_OUT is writable");
            println!(
                "wrote {path}: {} files, {damaged} damaged texts",
                totals.files
            );
        }
        if let Some(path) = baseline {
            let before = std::fs::read_to_string(&path).expect("EXTRACT_EQ_BASELINE is readable");
            let differing = before.lines().ne(out.lines());
            let first = before
                .lines()
                .zip(out.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("before {a}\nafter  {b}"));
            assert!(
                !differing,
                "facts differ from {path}: {}",
                first.unwrap_or_else(|| "the files list other texts".into())
            );
            println!("same facts as {path}");
        }
    }
}
