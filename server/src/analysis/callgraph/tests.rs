//! Unit tests: small programs and the edges they must (and must not) produce. Each test is a
//! specification of one resolution feature. Module names ending in `.__init__` are packages.

use super::facts::{Op, MAX_CALL_ARGS};
use super::*;
use crate::analysis::parse::parse_str;

fn facts_of(name: &str, source: &str) -> ModuleFacts {
    let (name, is_package) = match name.strip_suffix(".__init__") {
        Some(pkg) => (pkg, true),
        None => (name, false),
    };
    let tree = parse_str(source, None);
    extract_facts(&SourceModule {
        name,
        is_package,
        source,
        tree: &tree,
    })
}

fn graph_of(modules: &[(&str, &str)]) -> CallGraph {
    let mut program = ProgramAnalysis::new();
    for (name, source) in modules {
        program.set_module(facts_of(name, source));
    }
    program.graph().clone()
}

fn has_edge(graph: &CallGraph, caller: &str, callee: &str) -> bool {
    graph.has_edge(caller, callee)
}

fn describe(graph: &CallGraph) -> String {
    let mut out = String::new();
    for (caller, callee) in graph.edges() {
        out.push_str(&format!("  {caller} -> {callee}\n"));
    }
    out
}

/// Every expected edge is in the graph.
#[track_caller]
fn assert_edges(modules: &[(&str, &str)], expected: &[(&str, &str)]) {
    let graph = graph_of(modules);
    for (caller, callee) in expected {
        assert!(
            has_edge(&graph, caller, callee),
            "missing {caller} -> {callee}; the graph has:\n{}",
            describe(&graph)
        );
    }
}

/// None of the edges is in the graph.
#[track_caller]
fn assert_no_edges(modules: &[(&str, &str)], unexpected: &[(&str, &str)]) {
    let graph = graph_of(modules);
    for (caller, callee) in unexpected {
        assert!(
            !has_edge(&graph, caller, callee),
            "unexpected {caller} -> {callee}; the graph has:\n{}",
            describe(&graph)
        );
    }
}

/// The graph's edges are exactly these.
#[track_caller]
fn assert_exact_edges(modules: &[(&str, &str)], expected: &[(&str, &str)]) {
    let graph = graph_of(modules);
    let mut actual: Vec<(String, String)> = graph
        .edges()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    actual.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    want.sort();
    assert_eq!(actual, want, "the graph has:\n{}", describe(&graph));
}

// ----- scopes ------------------------------------------------------------------------------

#[test]
fn calls_a_module_level_function() {
    assert_exact_edges(&[("main", "def f(): pass\nf()\n")], &[("main", "main.f")]);
}

#[test]
fn local_names_shadow_globals() {
    let src = "def f(): pass\ndef g(): pass\ndef h():\n    f = g\n    f()\n";
    assert_edges(&[("main", src)], &[("main.h", "main.g")]);
    assert_no_edges(&[("main", src)], &[("main.h", "main.f")]);
}

#[test]
fn nested_functions_read_enclosing_variables() {
    let src = "def target(): pass\ndef outer():\n    x = target\n    def inner():\n        x()\n    inner()\nouter()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.outer"),
            ("main.outer", "main.outer.inner"),
            ("main.outer.inner", "main.target"),
        ],
    );
}

#[test]
fn functions_read_globals_defined_later() {
    let src = "def main_fn():\n    helper()\ndef helper(): pass\n";
    assert_edges(&[("main", src)], &[("main.main_fn", "main.helper")]);
}

#[test]
fn builtins_are_named_with_the_builtin_prefix() {
    assert_exact_edges(
        &[("main", "len([1])\nprint('x')\n")],
        &[("main", "<builtin>.len"), ("main", "<builtin>.print")],
    );
}

#[test]
fn a_module_level_name_shadows_a_builtin() {
    assert_exact_edges(
        &[("main", "def len(x): pass\nlen([1])\n")],
        &[("main", "main.len")],
    );
}

#[test]
fn global_declarations_write_module_variables() {
    let src = "def a(): pass\nhandler = None\ndef setup():\n    global handler\n    handler = a\nsetup()\nhandler()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "main.setup"), ("main", "main.a")],
    );
}

#[test]
fn nonlocal_declarations_write_enclosing_variables() {
    let src = "def a(): pass\ndef outer():\n    f = None\n    def set_it():\n        nonlocal f\n        f = a\n    set_it()\n    f()\n";
    assert_edges(&[("main", src)], &[("main.outer", "main.a")]);
}

#[test]
fn reassignment_is_flow_sensitive_within_a_scope() {
    let src = "def a(): pass\ndef b(): pass\nx = a\nx = b\nx()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.b")]);
}

#[test]
fn branches_merge_their_definitions() {
    let src = "def a(): pass\ndef b(): pass\nif cond:\n    x = a\nelse:\n    x = b\nx()\n";
    assert_edges(&[("main", src)], &[("main", "main.a"), ("main", "main.b")]);
}

#[test]
fn loops_feed_later_definitions_back_to_earlier_reads() {
    let src = "def a(): pass\ndef b(): pass\ndef run(items):\n    x = a\n    for i in items:\n        x()\n        x = b\n";
    assert_edges(
        &[("main", src)],
        &[("main.run", "main.a"), ("main.run", "main.b")],
    );
}

#[test]
fn code_after_return_does_not_reach_the_merge() {
    let src = "def a(): pass\ndef b(): pass\ndef run(c):\n    x = a\n    if c:\n        x = b\n        return\n    x()\n";
    assert_edges(&[("main", src)], &[("main.run", "main.a")]);
    assert_no_edges(&[("main", src)], &[("main.run", "main.b")]);
}

// ----- classes and instances ---------------------------------------------------------------

#[test]
fn constructing_a_class_calls_its_init() {
    let src = "class C:\n    def __init__(self): pass\n    def m(self): pass\nc = C()\nc.m()\n";
    assert_exact_edges(
        &[("main", src)],
        &[("main", "main.C.__init__"), ("main", "main.C.m")],
    );
}

#[test]
fn constructing_a_class_without_init_calls_nothing() {
    let src = "class C:\n    def m(self): pass\nC().m()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.C.m")]);
}

#[test]
fn inherited_init_is_named_by_the_defining_class() {
    let src = "class A:\n    def __init__(self): pass\nclass B(A): pass\nB()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.A.__init__")]);
}

#[test]
fn instance_attributes_hold_instances() {
    let src = "class D:\n    def run(self): pass\nclass C:\n    def __init__(self):\n        self.d = D()\n    def go(self):\n        self.d.run()\n";
    assert_edges(&[("main", src)], &[("main.C.go", "main.D.run")]);
}

#[test]
fn values_returned_by_functions_and_methods_are_tracked() {
    let src = "class C:\n    def m(self): pass\ndef make():\n    return C()\nclass F:\n    def build(self):\n        return make()\nF().build().m()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.F.build"),
            ("main", "main.C.m"),
            ("main.F.build", "main.make"),
        ],
    );
}

#[test]
fn cls_in_a_classmethod_constructs_the_class() {
    let src = "class C:\n    def __init__(self): pass\n    @classmethod\n    def make(cls):\n        return cls()\n    def m(self): pass\nC.make().m()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.C.make"),
            ("main.C.make", "main.C.__init__"),
            ("main", "main.C.m"),
        ],
    );
}

#[test]
fn instances_flow_through_parameters() {
    let src = "class C:\n    def m(self): pass\ndef use(x):\n    x.m()\nuse(C())\n";
    assert_edges(&[("main", src)], &[("main.use", "main.C.m")]);
}

#[test]
fn instances_flow_through_containers() {
    let src = "class C:\n    def m(self): pass\nitems = [C()]\nfor it in items:\n    it.m()\nd = {'k': C()}\nd['k'].m()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.C.m")]);
}

#[test]
fn self_calls_dispatch_to_overrides_in_subclasses() {
    let src = "class Base:\n    def run(self):\n        self.step()\n    def step(self): pass\nclass Child(Base):\n    def step(self): pass\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main.Base.run", "main.Base.step"),
            ("main.Base.run", "main.Child.step"),
        ],
    );
}

#[test]
fn methods_are_found_through_the_c3_order() {
    let src = "class A:\n    def f(self): pass\nclass B(A): pass\nclass C(A):\n    def f(self): pass\nclass D(B, C): pass\nD().f()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.C.f")]);
}

#[test]
fn super_follows_the_mro_across_modules() {
    let base = "class Base:\n    def __init__(self): pass\n    def save(self): pass\n";
    let main = "from base import Base\nclass Model(Base):\n    def __init__(self):\n        super().__init__()\n    def save(self):\n        super(Model, self).save()\nModel().save()\n";
    assert_edges(
        &[("base", base), ("main", main)],
        &[
            ("main", "main.Model.__init__"),
            ("main.Model.__init__", "base.Base.__init__"),
            ("main.Model.__init__", "<builtin>.super"),
            ("main.Model.save", "base.Base.save"),
        ],
    );
}

#[test]
fn static_and_class_methods_bind_as_python_binds_them() {
    let src = "class C:\n    @staticmethod\n    def s(x):\n        x()\n    @classmethod\n    def c(cls, y):\n        y()\ndef f(): pass\ndef g(): pass\nC.s(f)\nC().c(g)\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.C.s"),
            ("main", "main.C.c"),
            ("main.C.s", "main.f"),
            ("main.C.c", "main.g"),
        ],
    );
    assert_no_edges(
        &[("main", src)],
        &[
            ("main", "<builtin>.staticmethod"),
            ("main.C", "<builtin>.classmethod"),
        ],
    );
}

#[test]
fn properties_are_called_when_read() {
    let src = "class C:\n    @property\n    def p(self):\n        return 1\nC().p\n";
    assert_edges(&[("main", src)], &[("main", "main.C.p")]);
}

/// `simplify` merges the two loads of `c.p` in `f` into one; each read is still a call of
/// the getter at its own place, as the call hierarchy shows it, before and after an edit.
#[test]
fn a_property_read_twice_in_one_body_is_a_call_at_each_read() {
    let src = "class C:\n    @property\n    def p(self):\n        return 1\n\ndef f(c):\n    a = c.p\n    b = c.p\n    return a, b\n\nf(C())\n";
    let reads: Vec<usize> = src.match_indices("c.p").map(|(i, _)| i).collect();
    assert_eq!(reads.len(), 2);
    let sites_of_p = |g: &CallGraph| -> Vec<(String, std::ops::Range<usize>)> {
        g.module_call_sites("main")
            .filter(|s| s.callee == "main.C.p")
            .map(|s| (s.caller.to_string(), s.range))
            .collect()
    };
    let facts = facts_of("main", src);
    assert_eq!(facts.load_aliases.len(), 1, "{:?}", facts.ops);
    let mut program = ProgramAnalysis::new();
    program.set_module(facts);
    let expected: Vec<(String, std::ops::Range<usize>)> = reads
        .iter()
        .map(|&i| ("main.f".to_string(), i..i + 3))
        .collect();
    assert_eq!(sites_of_p(program.graph()), expected);
    // An edit inside `f` that keeps both reads and changes its facts (swapping `a` and `b`
    // would not: both are the merged load's node), so the update re-solves `f`'s body.
    let edited = src.replace("return a, b", "return a, b, len(a)");
    program.set_module(facts_of("main", &edited));
    assert_eq!(sites_of_p(program.graph()), expected);
    // Without the property there is no call at either read.
    let plain = src.replace("    @property\n", "");
    let graph = graph_of(&[("main", plain.as_str())]);
    assert!(sites_of_p(&graph).is_empty());
}

#[test]
fn with_statements_call_enter_and_exit() {
    let src = "class R:\n    def __enter__(self):\n        return self\n    def __exit__(self, *a): pass\n    def use(self): pass\nwith R() as r:\n    r.use()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.R.__enter__"),
            ("main", "main.R.__exit__"),
            ("main", "main.R.use"),
        ],
    );
}

#[test]
fn class_attributes_of_classes_in_other_modules() {
    let lib = "class Outer:\n    class Inner:\n        def m(self): pass\n";
    let main = "import lib\nclass C(lib.Outer.Inner): pass\nC().m()\n";
    assert_edges(
        &[("lib", lib), ("main", main)],
        &[("main", "lib.Outer.Inner.m")],
    );
}

#[test]
fn inheritance_cycles_do_not_loop() {
    let src = "class A(B):\n    def f(self): pass\nclass B(A):\n    def g(self): pass\nA().f()\nB().g()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "main.A.f"), ("main", "main.B.g")],
    );
}

// ----- functions as values --------------------------------------------------------------------

#[test]
fn functions_passed_as_arguments_are_called_by_the_callee() {
    let src = "def cb(): pass\ndef run(f, *, then=None):\n    f()\n    then()\ndef other(): pass\nrun(cb, then=other)\n";
    assert_edges(
        &[("main", src)],
        &[("main.run", "main.cb"), ("main.run", "main.other")],
    );
}

#[test]
fn star_arguments_reach_parameters() {
    let src = "def cb(): pass\ndef run(a, b):\n    b()\nargs = (None, cb)\nrun(*args)\n";
    assert_edges(&[("main", src)], &[("main.run", "main.cb")]);
}

#[test]
fn lambdas_are_numbered_per_scope() {
    let src = "f = lambda: g()\ndef g(): pass\nf()\ndef h():\n    k = lambda: 1\n    return k()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.<lambda1>"),
            ("main.<lambda1>", "main.g"),
            ("main.h", "main.h.<lambda1>"),
        ],
    );
}

#[test]
fn dicts_lists_and_tuples_hold_callables() {
    let src = "def a(): pass\ndef b(): pass\ndef c(): pass\nd = {'x': a, 'y': b}\nd['x']()\nl = [a, b, c]\nl[2]()\nt = (a, c)\nfirst, second = t\nsecond()\n";
    assert_exact_edges(&[("main", src)], &[("main", "main.a"), ("main", "main.c")]);
}

#[test]
fn list_methods_add_elements() {
    let src = "def a(): pass\nhandlers = []\nhandlers.append(a)\nfor h in handlers:\n    h()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "main.a"), ("main", "<**PyList**>.append")],
    );
}

#[test]
fn dict_items_give_keys_and_values() {
    let src = "def a(): pass\nd = {'k': a}\nfor k, v in d.items():\n    v()\nfor v in d.values():\n    v()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "main.a"), ("main", "<**PyDict**>.items")],
    );
}

/// A module that registers factories with `setdefault` and calls the one under `'h'`.
const REGISTRY: &str = "registry = {}\n\ndef register(name, factory):\n    registry.setdefault(name, factory)\n\ndef run():\n    registry['h']().handle()\n";

/// `setdefault` stores under each value its key has, including values that reach the key
/// only after the call was resolved: here the key comes from another module, through calls.
/// The store used to read the key's values once, when the call was resolved, and with the
/// caller's module laid out first it found none and stored nothing.
#[test]
fn setdefault_stores_under_keys_that_arrive_later() {
    let caller = "import m\n\nclass Handler:\n    def handle(self):\n        pass\n\ndef name_of(x):\n    return x\n\ndef setup():\n    m.register(name_of(name_of(name_of('h'))), Handler)\n";
    let expected = [
        ("m.run", "a.Handler.handle"),
        ("m.register", "<**PyDict**>.setdefault"),
    ];
    assert_edges(&[("a", caller), ("m", REGISTRY)], &expected);
    assert_edges(&[("m", REGISTRY), ("a", caller)], &expected);
}

/// A key too many values reach is any key: `setdefault` stores under an unknown key, which
/// a read under any key sees. (What the key's constraints derived from its values before it
/// saturated is taken back, and only a constraint that acts on `Top` derives it again.)
#[test]
fn setdefault_with_a_saturated_key_stores_under_an_unknown_key() {
    let mut caller = String::from(
        "import m\n\nclass Handler:\n    def handle(self):\n        pass\n\ndef setup():\n",
    );
    for i in 0..300 {
        caller.push_str(&format!("    m.register('k{i}', Handler)\n"));
    }
    for modules in [
        [("a", caller.as_str()), ("m", REGISTRY)],
        [("m", REGISTRY), ("a", caller.as_str())],
    ] {
        assert_edges(&modules, &[("m.run", "a.Handler.handle")]);
    }
}

/// `get` reads the entry under each value of its key: one the module gives it at once and
/// one that arrives later through calls from another module.
#[test]
fn dict_get_reads_entries_under_keys_that_arrive_later() {
    let table = "def run_a(): pass\ndef run_b(): pass\ntable = {'a': run_a, 'b': run_b}\n\ndef dispatch(key):\n    table.get(key)()\n\ndispatch('a')\n";
    let caller = "import m\n\ndef name_of(x):\n    return x\n\ndef go():\n    m.dispatch(name_of(name_of('b')))\n";
    for modules in [[("a", caller), ("m", table)], [("m", table), ("a", caller)]] {
        assert_edges(
            &modules,
            &[("m.dispatch", "m.run_a"), ("m.dispatch", "m.run_b")],
        );
    }
}

#[test]
fn map_calls_its_function_for_the_caller() {
    let src = "def f(x):\n    return x\nlist(map(f, [1, 2]))\n";
    assert_edges(
        &[("main", src)],
        &[("main", "<builtin>.map"), ("main", "main.f")],
    );
}

#[test]
fn getattr_with_a_literal_name_reads_the_attribute() {
    let src = "class C:\n    def m(self): pass\ngetattr(C(), 'm')()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "main.C.m"), ("main", "<builtin>.getattr")],
    );
}

// ----- decorators ---------------------------------------------------------------------------

#[test]
fn a_decorator_returning_its_function_keeps_it() {
    let src = "def dec(f):\n    return f\n@dec\ndef g(): pass\ng()\n";
    assert_exact_edges(
        &[("main", src)],
        &[("main", "main.dec"), ("main", "main.g")],
    );
}

#[test]
fn a_decorator_returning_a_wrapper_replaces_it() {
    let src = "import functools\ndef dec(f):\n    @functools.wraps(f)\n    def wrapper(*a, **k):\n        return f(*a, **k)\n    return wrapper\n@dec\ndef g(): pass\ng()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.dec"),
            ("main", "main.dec.wrapper"),
            ("main.dec.wrapper", "main.g"),
            ("main.dec", "functools.wraps"),
        ],
    );
}

#[test]
fn decorator_calls_come_from_the_enclosing_scope() {
    let src = "def dec(f):\n    return f\nclass C:\n    @dec\n    def m(self): pass\ndef outer():\n    @dec\n    def inner(): pass\n";
    assert_edges(
        &[("main", src)],
        &[("main.C", "main.dec"), ("main.outer", "main.dec")],
    );
}

#[test]
fn registries_do_not_mix_the_functions_they_register() {
    let src = "registry = []\ndef register(f):\n    registry.append(f)\n    return f\n@register\ndef a(): pass\n@register\ndef b(): pass\na()\n";
    assert_edges(&[("main", src)], &[("main", "main.a")]);
    assert_no_edges(&[("main", src)], &[("main", "main.b")]);
}

#[test]
fn external_decorators_leave_the_function_in_place() {
    let src = "from functools import lru_cache\n@lru_cache(maxsize=None)\ndef f(): pass\nf()\n";
    assert_edges(
        &[("main", src)],
        &[("main", "functools.lru_cache"), ("main", "main.f")],
    );
}

// ----- generators ---------------------------------------------------------------------------

#[test]
fn iterating_an_instance_calls_iter_and_next() {
    let src = "def f(): pass\nclass It:\n    def __iter__(self):\n        return self\n    def __next__(self):\n        return f\nfor x in It():\n    x()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "main.It.__iter__"),
            ("main", "main.It.__next__"),
            ("main", "main.f"),
        ],
    );
}

#[test]
fn generators_yield_values_to_their_loops() {
    let src = "def f(): pass\ndef gen():\n    yield f\nfor g in gen():\n    g()\n";
    assert_exact_edges(
        &[("main", src)],
        &[("main", "main.gen"), ("main", "main.f")],
    );
}

// ----- imports ------------------------------------------------------------------------------

#[test]
fn import_of_a_submodule_binds_the_package() {
    assert_edges(
        &[
            ("main", "import a.b\na.b.f()\n"),
            ("a.__init__", ""),
            ("a.b", "def f(): pass\n"),
        ],
        &[("main", "a.b.f")],
    );
}

#[test]
fn import_as_binds_the_submodule() {
    assert_edges(
        &[
            ("main", "import a.b as c\nc.f()\n"),
            ("a.__init__", ""),
            ("a.b", "def f(): pass\n"),
        ],
        &[("main", "a.b.f")],
    );
}

#[test]
fn relative_imports_resolve_from_the_package() {
    let modules = [
        ("pkg.__init__", ""),
        ("pkg.sub.__init__", "from . import mod\n"),
        ("pkg.sub.mod", "from ..other import g\ndef f():\n    g()\n"),
        ("pkg.other", "def g(): pass\n"),
        ("main", "from pkg.sub import mod\nmod.f()\n"),
    ];
    assert_edges(
        &modules,
        &[("main", "pkg.sub.mod.f"), ("pkg.sub.mod.f", "pkg.other.g")],
    );
}

#[test]
fn star_imports_honour_all() {
    let modules = [
        ("lib", "__all__ = ['a']\ndef a(): pass\ndef b(): pass\n"),
        ("main", "from lib import *\na()\nb()\n"),
    ];
    assert_edges(&modules, &[("main", "lib.a")]);
    assert_no_edges(&modules, &[("main", "lib.b")]);
}

#[test]
fn star_imports_without_all_bring_public_names() {
    let modules = [
        ("lib", "def a(): pass\ndef _b(): pass\n"),
        ("main", "from lib import *\na()\n_b()\n"),
    ];
    assert_edges(&modules, &[("main", "lib.a")]);
    assert_no_edges(&modules, &[("main", "lib._b")]);
}

#[test]
fn reexports_through_init_resolve_to_the_definition() {
    let modules = [
        ("pkg.__init__", "from .impl import Thing\n"),
        ("pkg.impl", "class Thing:\n    def go(self): pass\n"),
        ("main", "from pkg import Thing\nThing().go()\n"),
    ];
    assert_edges(&modules, &[("main", "pkg.impl.Thing.go")]);
}

#[test]
fn import_error_fallbacks_give_both_targets() {
    let modules = [
        ("fast", "def run(): pass\n"),
        ("slow", "def run(): pass\n"),
        ("main", "try:\n    from fast import run\nexcept ImportError:\n    from slow import run\nrun()\n"),
    ];
    assert_edges(&modules, &[("main", "fast.run"), ("main", "slow.run")]);
}

#[test]
fn imports_inside_functions_are_local() {
    let modules = [
        ("lib", "def f(): pass\n"),
        ("main", "def g():\n    import lib\n    lib.f()\n"),
    ];
    assert_edges(&modules, &[("main.g", "lib.f")]);
}

#[test]
fn import_cycles_resolve() {
    let modules = [
        ("a", "import b\ndef f():\n    b.g()\n"),
        ("b", "import a\ndef g():\n    a.f()\n"),
    ];
    assert_edges(&modules, &[("a.f", "b.g"), ("b.g", "a.f")]);
}

#[test]
fn names_from_outside_the_program_keep_their_import_name() {
    let src = "import os.path\nfrom ext import Cls, function as fn\nos.path.join('a', 'b')\nfn()\nc = Cls()\nc.method()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main", "os.path.join"),
            ("main", "ext.function"),
            ("main", "ext.Cls"),
            ("main", "ext.Cls.method"),
        ],
    );
}

#[test]
fn external_base_classes_supply_unknown_attributes() {
    let src = "from ext import Base\nclass C(Base):\n    def __init__(self):\n        self.mine = 1\n    def f(self):\n        self.inherited()\nC().f()\n";
    assert_edges(
        &[("main", src)],
        &[
            ("main.C.f", "ext.Base.inherited"),
            ("main", "main.C.__init__"),
        ],
    );
}

// ----- call sites, nodes and the PyCG format -----------------------------------------------------

#[test]
fn call_sites_have_ranges_and_indexes() {
    let src = "def f(): pass\ndef g():\n    f()\n";
    let graph = graph_of(&[("main", src)]);
    let callers = graph.callers_of("main.f");
    assert_eq!(callers.len(), 1);
    assert_eq!(callers[0].caller, "main.g");
    assert_eq!(&src[callers[0].range.clone()], "f()");
    assert_eq!(graph.callees_of("main.g").len(), 1);
    let info = graph.node("main.g").expect("a node for main.g");
    assert_eq!(info.kind, NodeKind::Function);
    assert_eq!(&src[info.name_range.clone().unwrap_or(0..0)], "g");
}

#[test]
fn the_pycg_format_lists_nodes_without_callees() {
    let graph = graph_of(&[(
        "main",
        "def f(): pass\nclass C:\n    def m(self): pass\nf()\n",
    )]);
    let json = to_pycg_json(&graph);
    assert_eq!(json["main"], serde_json::json!(["main.f"]));
    assert_eq!(json["main.f"], serde_json::json!([]));
    assert_eq!(json["main.C.m"], serde_json::json!([]));
    assert!(
        json.get("main.C").is_none(),
        "classes are listed only when they call something"
    );
}

// ----- robustness ---------------------------------------------------------------------------

fn run_on_big_stack<F: FnOnce() + Send + 'static>(f: F) {
    // The test threads' stacks are 2 MiB, as tokio's and rayon's workers are: no bigger.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no panic");
}

#[test]
fn deeply_nested_input_does_not_overflow_the_stack() {
    run_on_big_stack(|| {
        for src in [
            format!("x = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000)),
            format!("x = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000)),
            format!("x = a{}\n", ".b".repeat(10_000)),
            format!("x = f{}\n", "()".repeat(10_000)),
            format!("x = 1{}\n", " + 1".repeat(100_000)),
            format!("x = {}1\n", "-".repeat(10_000)),
            format!("x = {} 1\n", "lambda: ".repeat(5_000)),
            (0..1000)
                .map(|i| format!("{}if x:\n", " ".repeat(i)))
                .collect::<String>(),
            (0..1000)
                .map(|i| format!("{}def f{i}():\n", " ".repeat(i)))
                .collect::<String>(),
        ] {
            let facts = facts_of("main", &src);
            let mut program = ProgramAnalysis::new();
            program.set_module(facts);
            let _ = program.graph();
        }
    });
}

#[test]
fn syntax_errors_and_python_2_are_analysed_as_far_as_possible() {
    let src = "def f(:\n    pass\nprint 'hello'\nexec 'x'\ndef g(): pass\ng()\nclass (\n";
    assert_edges(&[("main", src)], &[("main", "main.g")]);
    let junk = "\u{0}\u{1}))((][;;;def class lambda ** ** @@ \"\"\" '''";
    let _ = graph_of(&[("main", junk)]);
}

#[test]
fn large_files_and_lines_are_handled() {
    run_on_big_stack(|| {
        let line = format!("x = [{}]\n", "f, ".repeat(300_000));
        let _ = graph_of(&[("main", &line)]);
        let many = "def f(): pass\nf()\n".repeat(50_000);
        let graph = graph_of(&[("main", &many)]);
        assert!(has_edge(&graph, "main", "main.f"));
    });
}

#[test]
fn recursive_data_flows_terminate() {
    let src = "class Node:\n    def __init__(self, parent):\n        self.parent = parent\n    def root(self):\n        n = self\n        while n.parent:\n            n = n.parent\n        return n\nimport ext\nx = ext.thing\nwhile True:\n    x = x.child.next\n    x = [x, [x]]\nNode(Node(None)).root().root()\n";
    assert_edges(&[("main", src)], &[("main", "main.Node.root")]);
}

// ----- incremental updates --------------------------------------------------------------------

fn edges_of(graph: &CallGraph) -> Vec<(String, String)> {
    graph
        .edges()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn sites_of(graph: &CallGraph) -> Vec<(String, String, String, usize, usize)> {
    let mut v: Vec<_> = graph
        .call_sites()
        .map(|c| {
            (
                c.module.to_string(),
                c.caller.to_string(),
                c.callee.to_string(),
                c.range.start,
                c.range.end,
            )
        })
        .collect();
    v.sort();
    v
}

/// Solves `before`, replaces the modules in `edits` incrementally, and checks the result
/// against a solve of the edited program from scratch.
#[track_caller]
fn assert_incremental(before: &[(&str, &str)], edits: &[(&str, &str)], expect: UpdateKind) {
    let mut program = ProgramAnalysis::new();
    for (name, source) in before {
        program.set_module(facts_of(name, source));
    }
    let _ = program.graph();
    for (name, source) in edits {
        program.set_module(facts_of(name, source));
    }
    let incremental = program.graph().clone();
    assert_eq!(
        program.last_update(),
        expect,
        "the kind of update: {}",
        program.last_report()
    );
    let mut after: Vec<(&str, &str)> = before.to_vec();
    for (name, source) in edits {
        match after.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = source,
            None => after.push((name, source)),
        }
    }
    let scratch = graph_of(&after);
    assert_eq!(
        edges_of(&incremental),
        edges_of(&scratch),
        "edges after the update"
    );
    assert_eq!(
        sites_of(&incremental),
        sites_of(&scratch),
        "call sites after the update"
    );
    let positions = |g: &CallGraph| -> Vec<(String, Option<std::ops::Range<usize>>)> {
        g.nodes().map(|(k, v)| (k.to_string(), v.range)).collect()
    };
    assert_eq!(
        positions(&incremental),
        positions(&scratch),
        "node positions after the update"
    );
}

#[test]
fn an_edit_inside_a_body_is_solved_incrementally() {
    let lib = "class C:\n    def m(self):\n        pass\n    def n(self):\n        pass\ndef make():\n    return C()\n";
    let before = "from lib import make\ndef f():\n    x = make()\n    x.m()\ndef g():\n    f()\n";
    let after = "from lib import make\ndef f():\n    x = make()\n    x.n()\n    len([])\ndef g():\n    f()\n";
    assert_incremental(
        &[("lib", lib), ("main", before)],
        &[("main", after)],
        UpdateKind::Incremental,
    );
}

#[test]
fn removing_a_call_takes_its_consequences_back() {
    let src0 = "def cb(): pass\ndef other(): pass\ndef run(f):\n    f()\ndef a():\n    run(cb)\ndef b():\n    run(other)\n";
    let src1 = "def cb(): pass\ndef other(): pass\ndef run(f):\n    f()\ndef a():\n    pass\ndef b():\n    run(other)\n";
    assert_incremental(
        &[("main", src0)],
        &[("main", src1)],
        UpdateKind::Incremental,
    );
    assert_incremental(
        &[("main", src1)],
        &[("main", src0)],
        UpdateKind::Incremental,
    );
}

#[test]
fn edits_that_change_returns_flow_to_other_modules() {
    let lib0 = "class A:\n    def go(self): pass\nclass B:\n    def go(self): pass\ndef make():\n    return A()\n";
    let lib1 = "class A:\n    def go(self): pass\nclass B:\n    def go(self): pass\ndef make():\n    return B()\n";
    let main = "import lib\ndef use():\n    lib.make().go()\n";
    assert_incremental(
        &[("lib", lib0), ("main", main)],
        &[("lib", lib1)],
        UpdateKind::Incremental,
    );
}

#[test]
fn edits_in_methods_with_instance_attributes_and_containers() {
    let before = "class D:\n    def run(self): pass\nclass E:\n    def run(self): pass\nclass C:\n    def __init__(self):\n        self.d = D()\n        self.items = [D()]\n    def go(self):\n        self.d.run()\n        for i in self.items:\n            i.run()\nC().go()\n";
    let after = "class D:\n    def run(self): pass\nclass E:\n    def run(self): pass\nclass C:\n    def __init__(self):\n        self.d = E()\n        self.items = [E(), D()]\n    def go(self):\n        self.d.run()\n        for i in self.items:\n            i.run()\nC().go()\n";
    assert_incremental(
        &[("main", before)],
        &[("main", after)],
        UpdateKind::Incremental,
    );
    assert_incremental(
        &[("main", after)],
        &[("main", before)],
        UpdateKind::Incremental,
    );
}

#[test]
fn moving_code_only_moves_positions() {
    let before = "def f(): pass\ndef g():\n    f()\n";
    let after = "\n\n# a comment\ndef f(): pass\n\ndef g():\n    f()  # call\n";
    assert_incremental(
        &[("main", before)],
        &[("main", after)],
        UpdateKind::Incremental,
    );
}

/// Solves `before`, removes module `name` (as `facts_of` names it) incrementally, and checks
/// the result against a solve from scratch of the modules left.
#[track_caller]
fn assert_removal(before: &[(&str, &str)], name: &str, expect: UpdateKind) {
    let mut program = ProgramAnalysis::new();
    for (module, source) in before {
        program.set_module(facts_of(module, source));
    }
    let _ = program.graph();
    program.remove_module(name.strip_suffix(".__init__").unwrap_or(name));
    let incremental = program.graph().clone();
    assert_eq!(
        program.last_update(),
        expect,
        "the kind of update removing {name}: {}",
        program.last_report()
    );
    let left: Vec<(&str, &str)> = before.iter().copied().filter(|(n, _)| *n != name).collect();
    let scratch = graph_of(&left);
    assert_eq!(edges_of(&incremental), edges_of(&scratch), "edges");
    assert_eq!(sites_of(&incremental), sites_of(&scratch), "call sites");
    let nodes = |g: &CallGraph| -> Vec<(String, NodeKind, Option<std::ops::Range<usize>>)> {
        g.nodes()
            .map(|(k, v)| (k.to_string(), v.kind, v.range))
            .collect()
    };
    assert_eq!(nodes(&incremental), nodes(&scratch), "nodes");
}

#[test]
fn modules_nothing_else_reads_are_removed_incrementally() {
    let (base, sources) = program_and_unread_modules();
    for source in sources {
        // At the top level, in a package that stays, in packages that go with it.
        for name in ["tool", "pkg.tool", "fresh.sub.tool"] {
            let mut before = base.to_vec();
            before.push((name, source));
            assert_removal(&before, name, UpdateKind::Incremental);
        }
    }
    // A package whose submodule stays keeps its name as a namespace package.
    let mut before = base.to_vec();
    before.push(("fresh.__init__", "def f(): pass\n"));
    before.push(("fresh.tool", "def g(): pass\n"));
    assert_removal(&before, "fresh.__init__", UpdateKind::Incremental);
    // A package's function and a module under it with the same qualified name: the node
    // stays with the module that stays. (The package's name `sub` counts as read by the
    // module under it, which solves from scratch.)
    let mut before = base.to_vec();
    before.push(("coll.__init__", "def sub(): pass\nsub()\n"));
    before.push(("coll.sub", "def f(): pass\nf()\n"));
    assert_removal(&before, "coll.sub", UpdateKind::Incremental);
    assert_removal(&before, "coll.__init__", UpdateKind::Full);
}

#[test]
fn modules_the_program_reads_are_removed_by_solving_from_scratch() {
    let tool = "class Base:\n    def go(self):\n        self.hook()\n    def hook(self): pass\ndef f():\n    return Base()\n";
    let pkg = "from . import inner\n";
    let inner = "def helper(): pass\n";
    // Imported (plainly, from its package, with a star), looked up on its package, written in
    // a base class, or a package a module under it needs.
    let readers = [
        ("import tool\ntool.f().go()\n", "tool"),
        ("from tool import f\nf().go()\n", "tool"),
        ("from tool import *\nf().go()\n", "tool"),
        ("import fresh.tool\nfresh.tool.f().go()\n", "fresh.tool"),
        ("from pkg import tool\ntool.f().go()\n", "pkg.tool"),
        ("import pkg\npkg.tool.f().go()\n", "pkg.tool"),
        (
            "import pkg\nclass C(pkg.tool.Base):\n    def hook(self): pass\nC().go()\n",
            "pkg.tool",
        ),
        ("import pkg.inner\npkg.inner.helper()\n", "pkg.__init__"),
    ];
    for (reader, name) in readers {
        // The module removed replaces the one of its name.
        let mut before: Vec<(&str, &str)> = [("pkg.__init__", pkg), ("pkg.inner", inner)]
            .into_iter()
            .filter(|&(n, _)| n != name)
            .collect();
        before.push(("reader", reader));
        before.push((name, tool));
        assert_removal(&before, name, UpdateKind::Full);
    }
    // A module that imports itself can hand its module value to the program.
    let lib = "def apply(m):\n    m.f()\n";
    let tool = "import lib\nimport tool\ndef f(): pass\nlib.apply(tool)\n";
    assert_removal(&[("lib", lib), ("tool", tool)], "tool", UpdateKind::Full);
}

#[test]
fn a_module_removed_incrementally_can_come_back_and_be_edited() {
    let lib = "def a(): pass\ndef b(): pass\nclass Base:\n    def hook(self): pass\n    def run(self):\n        self.hook()\n";
    let first = "from lib import Base, a\nclass Sub(Base):\n    def hook(self): a()\nSub().run()\n";
    let second =
        "from lib import Base, b\nclass Sub(Base):\n    def hook(self): b()\nSub().run()\n";
    let mut program = ProgramAnalysis::new();
    program.set_module(facts_of("lib", lib));
    program.set_module(facts_of("pkg.tool", first));
    let _ = program.graph();
    assert!(has_edge(
        program.graph(),
        "lib.Base.run",
        "pkg.tool.Sub.hook"
    ));
    program.remove_module("pkg.tool");
    let removed = program.graph().clone();
    assert_eq!(
        program.last_update(),
        UpdateKind::Incremental,
        "{}",
        program.last_report()
    );
    assert!(!has_edge(&removed, "lib.Base.run", "pkg.tool.Sub.hook"));
    assert_eq!(edges_of(&removed), edges_of(&graph_of(&[("lib", lib)])));
    for source in [first, second] {
        program.set_module(facts_of("pkg.tool", source));
        let incremental = program.graph().clone();
        assert_eq!(
            program.last_update(),
            UpdateKind::Incremental,
            "{}",
            program.last_report()
        );
        let scratch = graph_of(&[("lib", lib), ("pkg.tool", source)]);
        assert_eq!(edges_of(&incremental), edges_of(&scratch));
        assert_eq!(sites_of(&incremental), sites_of(&scratch));
    }
    assert!(has_edge(program.graph(), "pkg.tool.Sub.hook", "lib.b"));
}

#[test]
fn many_successive_edits_stay_equal_to_solves_from_scratch() {
    let lib = "class Base:\n    def hook(self): pass\n    def run(self):\n        self.hook()\nclass Sub(Base):\n    def hook(self): pass\nregistry = {}\ndef register(name, f):\n    registry[name] = f\ndef call(name):\n    registry[name]()\n";
    let versions = [
        "import lib\ndef a(): pass\ndef b(): pass\ndef setup():\n    lib.register('x', a)\ndef use():\n    lib.call('x')\n    lib.Sub().run()\n",
        "import lib\ndef a(): pass\ndef b(): pass\ndef setup():\n    lib.register('x', b)\ndef use():\n    lib.call('x')\n    lib.Sub().run()\n",
        "import lib\ndef a(): pass\ndef b(): pass\ndef setup():\n    lib.register('x', b)\n    lib.register('y', a)\ndef use():\n    lib.call('y')\n    lib.Base().run()\n",
        "import lib\ndef a(): pass\ndef b(): pass\ndef setup():\n    pass\ndef use():\n    lib.call('y')\n",
    ];
    let mut program = ProgramAnalysis::new();
    program.set_module(facts_of("lib", lib));
    program.set_module(facts_of("main", versions[0]));
    let _ = program.graph();
    for (i, v) in versions
        .iter()
        .enumerate()
        .skip(1)
        .chain(versions.iter().enumerate())
    {
        program.set_module(facts_of("main", v));
        let incremental = edges_of(program.graph());
        let scratch = edges_of(&graph_of(&[("lib", lib), ("main", v)]));
        assert_eq!(incremental, scratch, "after switching to version {i}");
    }
}

#[test]
fn facts_can_be_computed_in_parallel_and_cached() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<ModuleFacts>();
    fn sendable<T: Send>() {}
    sendable::<ProgramAnalysis>();
}

#[test]
fn changing_what_nested_functions_capture_is_incremental() {
    let before = "def a(): pass\ndef b(): pass\ndef outer():\n    f = a\n    def inner():\n        f()\n    inner()\n    return inner\n";
    let after = "def a(): pass\ndef b(): pass\ndef outer():\n    fx = a\n    def inner():\n        f()\n    inner()\n    return inner\nf = b\n";
    let after_local = "def a(): pass\ndef b(): pass\ndef outer():\n    fx = a\n    def inner():\n        f()\n    inner()\n    return inner\n";
    assert_incremental(
        &[("main", before)],
        &[("main", after_local)],
        UpdateKind::Incremental,
    );
    assert_incremental(
        &[("main", after_local)],
        &[("main", before)],
        UpdateKind::Incremental,
    );
    // `f = b` adds a module-level name, which no other module reads.
    assert_incremental(
        &[("main", before)],
        &[("main", after)],
        UpdateKind::Incremental,
    );
}

/// `assert_incremental` for module `main` edited from `a` to `b` and back, beside `others`.
#[track_caller]
fn assert_both_ways(others: &[(&str, &str)], a: &str, b: &str, expect: UpdateKind) {
    assert_both_ways_in(others, "main", a, b, expect);
}

/// `assert_incremental` for module `name` edited from `a` to `b` and back, beside `others`.
#[track_caller]
fn assert_both_ways_in(others: &[(&str, &str)], name: &str, a: &str, b: &str, expect: UpdateKind) {
    for (from, to) in [(a, b), (b, a)] {
        let mut before = others.to_vec();
        before.push((name, from));
        assert_incremental(&before, &[(name, to)], expect);
    }
}

#[test]
fn module_level_names_nobody_else_reads_come_and_go_incrementally() {
    let lib = "def a(): pass\ndef b(): pass\nclass K:\n    def m(self): pass\n";
    let before = "import lib\ndef run():\n    lib.a()\n";
    // A constant, an alias read by the module's own function, an instance.
    let added = [
        "import lib\ndef run():\n    lib.a()\nLIMIT = 10\n",
        "import lib\ndef run():\n    lib.a()\n    handler()\nhandler = lib.b\n",
        "import lib\ndef run():\n    lib.a()\n    obj.m()\nobj = lib.K()\n",
    ];
    let other = "import main\nmain.run()\n";
    // Imports and aliases bind names statically too; no base class is written with them.
    let imports = [
        "import lib\nimport os\ndef run():\n    lib.a()\n    os.getcwd()\n",
        "import lib\nfrom lib import b\ndef run():\n    lib.a()\n    b()\n",
        "import lib\nAlias = lib.K\ndef run():\n    lib.a()\n    Alias().m()\n",
    ];
    for after in added.into_iter().chain(imports) {
        let others = [("lib", lib), ("other", other)];
        assert_both_ways(&others, before, after, UpdateKind::Incremental);
    }
    // Code added before a class moves the nodes of its base class expressions, which does not
    // change the class.
    let classy = "import lib\nclass C(lib.K):\n    def n(self):\n        self.m()\nC().n()\n";
    let above = "import lib\nimport os\nos.getcwd()\nclass C(lib.K):\n    def n(self):\n        self.m()\nC().n()\n";
    assert_both_ways(&[("lib", lib)], classy, above, UpdateKind::Incremental);
}

/// A name a module with star imports reads in a base class is read there and in its star
/// sources (transitively), not in every module: another module importing a name of that
/// spelling is solved incrementally, while the star source that starts binding it is not.
#[test]
fn a_name_read_through_star_imports_ties_only_its_star_sources() {
    let lib = "class K:\n    def m(self): pass\nclass J:\n    def m(self): pass\n";
    let bound = "class K:\n    def m(self): pass\nclass J:\n    def m(self): pass\nThing = J\n";
    let mid = "from lib import *\n";
    // `Thing` is found through `mid` in `lib`, once `lib` binds it.
    let starry =
        "from mid import *\nclass S(Thing):\n    def n(self):\n        self.m()\nS().n()\n";
    let before = "import lib\ndef run():\n    lib.K().m()\n";
    let after =
        "import lib\nfrom lib import J as Thing\ndef run():\n    lib.K().m()\n    Thing().m()\n";
    let others = [("lib", lib), ("mid", mid), ("starry", starry)];
    assert_both_ways(&others, before, after, UpdateKind::Incremental);
    let others = [("mid", mid), ("starry", starry), ("main", before)];
    assert_both_ways_in(&others, "lib", lib, bound, UpdateKind::Full);
    let program = graph_of(&[("lib", bound), ("mid", mid), ("starry", starry)]);
    assert!(has_edge(&program, "starry.S.n", "lib.J.m"));
}

#[test]
fn functions_added_and_removed_are_solved_incrementally() {
    let lib = "def a(): pass\ndef b(): pass\n";
    let before =
        "import lib\ndef f():\n    lib.a()\ndef g():\n    f()\n    k = lambda: lib.b()\n    k()\n";
    let other = "import main\nmain.g()\n";
    let versions = [
        // A new function at the end, at the top, in the middle, called or not.
        "import lib\ndef f():\n    lib.a()\ndef g():\n    f()\n    k = lambda: lib.b()\n    k()\ndef h():\n    g()\n",
        "import lib\ndef h():\n    lib.b()\ndef f():\n    lib.a()\ndef g():\n    f()\n    k = lambda: lib.b()\n    k()\n",
        "import lib\ndef f():\n    lib.a()\ndef h():\n    f()\ndef g():\n    h()\n    k = lambda: lib.b()\n    k()\n",
        // A renamed function (one goes, one comes), a nested function, a lambda before
        // another (which renumbers it).
        "import lib\ndef f2():\n    lib.a()\ndef g():\n    f2()\n    k = lambda: lib.b()\n    k()\n",
        "import lib\ndef f():\n    def inner():\n        lib.b()\n    inner()\n    lib.a()\ndef g():\n    f()\n    k = lambda: lib.b()\n    k()\n",
        "import lib\ndef f():\n    lib.a()\ndef g():\n    f()\n    j = lambda: lib.a()\n    k = lambda: lib.b()\n    k()\n    j()\n",
        // Two functions of one name.
        "import lib\ndef f():\n    lib.a()\ndef f():\n    lib.b()\ndef g():\n    f()\n    k = lambda: lib.b()\n    k()\n",
    ];
    for after in versions {
        let others = [("lib", lib), ("other", other)];
        assert_both_ways(&others, before, after, UpdateKind::Incremental);
    }
    // Taking away a function another module calls, or adding one it looked for.
    let reader = "import main\nmain.f()\nmain.h()\n";
    let added = versions[0];
    let renamed = versions[3];
    let others = [("lib", lib), ("other", reader)];
    assert_both_ways(&others, before, added, UpdateKind::Full);
    assert_both_ways(&others, before, renamed, UpdateKind::Full);
}

#[test]
fn changed_signatures_are_solved_incrementally() {
    // Callers in another module bind arguments to the parameters, by position, by keyword,
    // through `*args` and `**kwargs`; the callee calls what it is given.
    let lib = "def a(): pass\ndef b(): pass\ndef f(x, y=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n";
    let main = "import lib\ndef run():\n    lib.f(lib.a, y=lib.b)\n    lib.f(lib.b)\n    lib.K().m(lib.b)\n    lib.K().n()\n";
    let edited = [
        // A parameter added, removed, renamed, reordered, given a default, made keyword-only
        // or variadic.
        "def a(): pass\ndef b(): pass\ndef f(x, y=None, z=a):\n    x()\n    if y: y()\n    z()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(x):\n    x()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(x, w=None):\n    x()\n    if w: w()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(y=None, x=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(x, *, y=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(*args, **kwargs):\n    args[0]()\n    kwargs['y']()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        // A method's parameters, with a caller in its own class.
        "def a(): pass\ndef b(): pass\ndef f(x, y=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, other, cb=b):\n        cb()\n        other()\n    def n(self):\n        self.m(a)\n",
        // A decorator added, `async`, a nested function that moves with its parent.
        "import functools\ndef a(): pass\ndef b(): pass\n@functools.lru_cache\ndef f(x, y=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\nasync def f(x, y=None):\n    x()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
        "def a(): pass\ndef b(): pass\ndef f(x, y=None, v=None):\n    def inner(q=x):\n        q()\n    inner()\n    if y: y()\nclass K:\n    def m(self, cb):\n        cb()\n    def n(self):\n        self.m(a)\n",
    ];
    for after in edited {
        assert_both_ways_in(
            &[("main", main)],
            "lib",
            lib,
            after,
            UpdateKind::Incremental,
        );
    }
    // A method made a property, a static method, a class method.
    let methods = "def a(): pass\ndef b(): pass\nclass K:\n    def m(self):\n        return a\n    def n(self):\n        return b\n    def go(self):\n        self.m()()\n        self.n()()\nK().go()\nK.n(K())()\n";
    let kinds = [
        "def a(): pass\ndef b(): pass\nclass K:\n    @property\n    def m(self):\n        return a\n    def n(self):\n        return b\n    def go(self):\n        self.m()()\n        self.n()()\nK().go()\nK.n(K())()\n",
        "def a(): pass\ndef b(): pass\nclass K:\n    def m(self):\n        return a\n    @staticmethod\n    def n(self):\n        return b\n    def go(self):\n        self.m()()\n        self.n()()\nK().go()\nK.n(K())()\n",
        "def a(): pass\ndef b(): pass\nclass K:\n    @classmethod\n    def m(self):\n        return a\n    def n(self):\n        return b\n    def go(self):\n        self.m()()\n        self.n()()\nK().go()\nK.n(K())()\n",
    ];
    for after in kinds {
        assert_both_ways(&[], methods, after, UpdateKind::Incremental);
    }
    // A lambda's parameters, and a function with a nested function whose own signature
    // stays.
    let before = "def a(): pass\ndef outer(p):\n    def inner():\n        p()\n    inner()\n    k = lambda f: f()\n    k(a)\nouter(a)\n";
    let after = "def a(): pass\ndef outer(p, extra=a):\n    def inner():\n        p()\n        extra()\n    inner()\n    k = lambda f, g=a: f() or g()\n    k(a)\nouter(a)\n";
    assert_both_ways(&[], before, after, UpdateKind::Incremental);
    // A class defined in a function whose signature changes goes and comes back with it.
    let with_class =
        "def make(base):\n    class Local(base):\n        pass\n    return Local\nmake(object)\n";
    let with_class_after = "def make(base, name=None):\n    class Local(base):\n        pass\n    return Local\nmake(object)\n";
    assert_both_ways(&[], with_class, with_class_after, UpdateKind::Incremental);
}

#[test]
fn classes_added_removed_and_rebased_are_solved_incrementally() {
    // `Base.run` calls `self.hook()` and `self.action()` and reads `self.cb`: a subclass
    // overriding `hook`, setting `cb`, with its own `__init__` or `__call__`, changes what
    // those reach.
    let lib = "def a(): pass\ndef b(): pass\nclass Base:\n    def hook(self): pass\n    def action(self): a()\n    def run(self):\n        self.hook()\n        self.action()\n        self.cb()\n        self()\n";
    let before =
        "import lib\nclass Other:\n    def hook(self): pass\ndef use():\n    lib.Base().run()\n";
    let with = |classes: &str| {
        format!("import lib\nclass Other:\n    def hook(self): pass\n{classes}def use():\n    lib.Base().run()\n")
    };
    let versions = [
        // Unrelated classes, used or not.
        with("class Plain:\n    pass\n"),
        with("class Plain:\n    def go(self): lib.a()\n"),
        // Subclasses: overriding, setting an instance attribute read in the base, with
        // special methods, instantiated or not.
        with("class Sub(lib.Base):\n    def hook(self): lib.b()\n"),
        with("class Sub(lib.Base):\n    def hook(self): lib.b()\nSub().run()\n"),
        with("class Sub(lib.Base):\n    def __init__(self):\n        self.cb = lib.b\n    def __call__(self): lib.a()\nSub().run()\n"),
        // Two new classes, one deriving from the other; a class in a function.
        with("class Sub(lib.Base):\n    def hook(self): lib.b()\nclass SubSub(Sub):\n    def action(self): lib.b()\nSubSub().run()\n"),
        with("def make():\n    class Local(lib.Base):\n        def hook(self): lib.b()\n    return Local()\nmake().run()\n"),
    ];
    for after in &versions {
        assert_both_ways(&[("lib", lib)], before, after, UpdateKind::Incremental);
    }
    // A class that changes its base (nothing derives from it).
    let on_base = with("class Sub(lib.Base):\n    def hook(self): lib.b()\nSub().run()\n");
    let on_other = with("class Sub(Other):\n    def hook(self): lib.b()\n    def run(self): self.hook()\nSub().run()\n");
    assert_both_ways(
        &[("lib", lib)],
        &on_base,
        &on_other,
        UpdateKind::Incremental,
    );
    // A class with a subclass cannot go, nor change its bases.
    let chain = with("class Sub(lib.Base):\n    def hook(self): lib.b()\nclass SubSub(Sub):\n    pass\nSubSub().run()\n");
    let rebased = with("class Sub(Other):\n    def hook(self): lib.b()\nclass SubSub(Sub):\n    pass\nSubSub().run()\n");
    assert_both_ways(&[("lib", lib)], &chain, &rebased, UpdateKind::Full);
    let sub_elsewhere = "import main\nclass Far(main.Sub):\n    pass\nFar().run()\n";
    assert_both_ways(
        &[("lib", lib), ("far", sub_elsewhere)],
        &with("class Sub(lib.Base):\n    pass\n"),
        &with("class Sub(Other):\n    pass\n"),
        UpdateKind::Full,
    );
    // A class another module looked for.
    let reader = "import main\nmain.Sub().run()\n";
    assert_both_ways(
        &[("lib", lib), ("reader", reader)],
        before,
        &versions[2],
        UpdateKind::Full,
    );
    // Many edits in a row, each checked against a solve from scratch.
    let mut program = ProgramAnalysis::new();
    program.set_module(facts_of("lib", lib));
    program.set_module(facts_of("main", before));
    let _ = program.graph();
    for v in versions
        .iter()
        .chain(std::iter::once(&before.to_string()))
        .chain(versions.iter().rev())
    {
        program.set_module(facts_of("main", v));
        let incremental = edges_of(program.graph());
        assert_eq!(program.last_update(), UpdateKind::Incremental, "{v}");
        assert_eq!(
            incremental,
            edges_of(&graph_of(&[("lib", lib), ("main", v)])),
            "{v}"
        );
    }
}

#[test]
fn methods_added_and_removed_are_solved_incrementally() {
    // An override in a subclass that a base class's method calls on `self`.
    let base = "class Base:\n    def run(self):\n        self.hook()\n    def hook(self): pass\nclass Sub(Base):\n    def other(self): pass\nSub().run()\n";
    let hooked = "class Base:\n    def run(self):\n        self.hook()\n    def hook(self): pass\nclass Sub(Base):\n    def other(self): pass\n    def hook(self): pass\nSub().run()\n";
    assert_both_ways(&[], base, hooked, UpdateKind::Incremental);
    // A method another module calls (found, or looked for in vain before), and one that
    // comes before the others in its class.
    let lib = "class K:\n    def m(self): pass\n";
    let lib2 = "class K:\n    def m(self): pass\n    def m2(self):\n        self.m()\n";
    let lib3 = "class K:\n    def first(self): pass\n    def m(self): pass\n";
    let other = "from lib import K\nk = K()\nk.m()\nk.m2()\nK.first(k)\n";
    let sub = "from lib import K\nclass L(K):\n    def go(self):\n        self.m()\n        self.m2()\nL().go()\n";
    // Looked up with a computed name, through `super()`, and stored from outside.
    let dynamic = "from lib import K\nk = K()\nname = 'm2'\ngetattr(k, name)()\n";
    let sup = "from lib import K\nclass L(K):\n    def m2(self):\n        super().m2()\n        super().first()\nL().m2()\n";
    let store = "from lib import K\ndef f(): pass\nK.m2 = f\nK().m2()\n";
    for others in [
        [("other", other)],
        [("other", sub)],
        [("other", dynamic)],
        [("other", sup)],
        [("other", store)],
    ] {
        for after in [lib2, lib3] {
            assert_both_ways_in(&others, "lib", lib, after, UpdateKind::Incremental);
        }
    }
    // Special methods are looked up by calls, iteration and the like.
    let special = "class K:\n    def m(self): pass\n    def __call__(self):\n        self.m()\n    def __iter__(self):\n        return iter([self.m])\n";
    let user = "from lib import K\nk = K()\nk()\nfor f in k:\n    f()\n";
    let others = [("other", user)];
    assert_both_ways_in(&others, "lib", lib, special, UpdateKind::Incremental);
}

#[test]
fn a_method_added_re_derives_the_getattr_and_setattr_that_may_name_it_and_no_others() {
    let lib = "class K:\n    def m(self): pass\nclass L(K):\n    pass\n";
    let added = "class K:\n    def m(self): pass\n    def m2(self): pass\nclass L(K):\n    pass\n";
    // `getattr` and `setattr` with the new method's name, on instances of the class and of a
    // subclass, with the name written at the call or passed around.
    let naming = [
        "from lib import K\ngetattr(K(), 'm2')()\n",
        "from lib import L\nname = 'm2'\ndef f(): pass\ndef g(o, n):\n    return getattr(o, n)\ng(L(), name)()\n",
        "from lib import K\ndef f(): pass\nk = K()\nsetattr(k, 'm2', f)\nk.m2()\n",
    ];
    for user in naming {
        assert_both_ways_in(
            &[("other", user)],
            "lib",
            lib,
            added,
            UpdateKind::Incremental,
        );
    }
    // `getattr` with other names on the same instances: correct, and not re-derived.
    let unrelated = "from lib import K, L\ndef g(o, n):\n    return getattr(o, n)\ng(K(), 'm')()\ng(L(), 'm')()\nsetattr(K(), 'x', 1)\n";
    assert_both_ways_in(
        &[("other", unrelated)],
        "lib",
        lib,
        added,
        UpdateKind::Incremental,
    );
    let constraints = |user: &str| {
        let mut program = ProgramAnalysis::new();
        program.set_module(facts_of("lib", lib));
        program.set_module(facts_of("other", user));
        let _ = program.graph();
        program.set_module(facts_of("lib", added));
        let _ = program.graph();
        assert_eq!(program.last_update(), UpdateKind::Incremental);
        region_of(&program).1
    };
    let related = "from lib import K, L\ndef g(o, n):\n    return getattr(o, n)\ng(K(), 'm2')()\ng(L(), 'm')()\nsetattr(K(), 'x', 1)\n";
    assert!(
        constraints(related) > 0,
        "the getattr that names the method is re-derived"
    );
    assert_eq!(constraints(unrelated), 0, "nothing looks the new method up");
}

#[test]
fn module_level_names_read_from_outside_solve_from_scratch() {
    let lib = "def a(): pass\ndef b(): pass\n";
    let without = "import lib\ndef run():\n    lib.a()\n";
    let with = "import lib\ndef run():\n    lib.a()\nhook = lib.b\n";
    // Read as an attribute of the module (found before, or looked up in vain before).
    let reader = "import main\nmain.hook()\n";
    // Imported by name, and through a star import.
    let importer = "from main import hook\nhook()\n";
    let star = "from main import *\nhook()\n";
    for other in [reader, importer, star] {
        let others = [("lib", lib), ("other", other)];
        assert_both_ways(&others, without, with, UpdateKind::Full);
    }
    // A base class written with a name whose binding changes: class hierarchies are resolved
    // before solving, so the whole program is solved again.
    let lib = "class A:\n    def m(self): pass\nclass B:\n    def m(self): pass\n";
    let to_a = "import lib\nBase = lib.A\n";
    let to_b = "import lib\nBase = lib.B\n";
    let sub = "from main import Base\nclass C(Base):\n    pass\nC().m()\n";
    let others = [("lib", lib), ("other", sub)];
    assert_both_ways(&others, to_a, to_b, UpdateKind::Full);
    assert_both_ways(&others, "import lib\n", to_a, UpdateKind::Full);
    // The same with the base class in the module itself.
    let own_a = "import lib\nBase = lib.A\nclass C(Base):\n    pass\nC().m()\n";
    let own_b = "import lib\nBase = lib.B\nclass C(Base):\n    pass\nC().m()\n";
    assert_both_ways(&[("lib", lib)], own_a, own_b, UpdateKind::Full);
    // A name that is also a submodule was answered with the submodule.
    let package = "def run(): pass\n";
    let shadowing = "def run(): pass\nsub = 1\n";
    assert_incremental(
        &[
            ("pkg.__init__", package),
            ("pkg.sub", "def f(): pass\n"),
            ("other", "import pkg.sub\npkg.sub.f()\n"),
        ],
        &[("pkg.__init__", shadowing)],
        UpdateKind::Full,
    );
}

#[test]
fn renaming_self_attributes_of_classes_with_external_bases_is_incremental() {
    let before = "from ext import Base\nclass C(Base):\n    def __init__(self):\n        self.x = 1\n    def f(self):\n        self.x()\n        self.y()\nC().f()\n";
    let after = "from ext import Base\nclass C(Base):\n    def __init__(self):\n        self.y = 1\n    def f(self):\n        self.x()\n        self.y()\nC().f()\n";
    assert_incremental(
        &[("main", before)],
        &[("main", after)],
        UpdateKind::Incremental,
    );
    assert_incremental(
        &[("main", after)],
        &[("main", before)],
        UpdateKind::Incremental,
    );
}

/// A list sliced into itself in a loop, with a large index and a negative bound, must not
/// chain one slot per index (that overflowed the stack on the standard library).
#[test]
fn self_slicing_containers_stay_bounded() {
    let src = "def f():\n    pass\n\nx = [f]\nx[100000] = f\nwhile x:\n    x = x[1:]\n    y = x[-1:]\n    x = y\nx[0]()\n";
    let graph = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || graph_of(&[("m", src)]))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(has_edge(&graph, "m", "m.f"), "{}", describe(&graph));
}

/// `Top` reached `sink`'s parameter through a call that a later edit makes impossible to tell
/// (the callee node saturates): the parameter should lose `Top` again, as it never gets it in
/// a solve from scratch, rather than stay saturated and hide `p.foo()`. It does not yet: a
/// saturated node is never derived again (`incremental.rs`: "except where a node reached the
/// cap"), so the update keeps `Top` in `p`. Letting a node `Top` reached be emptied and
/// derived again fixes this case, but on the standard library it took 11 settling rounds
/// instead of 3, lost 4% of the edges and made one checked edit differ from a solve from
/// scratch; the saturation rule needs a confluent definition first.
#[test]
#[ignore = "known limitation: saturation depends on the order of solving (see the comment)"]
fn a_node_top_reached_through_a_call_taken_back_is_derived_again() {
    let mut lib = String::new();
    for i in 0..300 {
        lib.push_str(&format!("def t{i}(x=None): pass\n"));
    }
    for i in 0..300 {
        lib.push_str(&format!("big = t{i}\n"));
    }
    lib.push_str("class A:\n    def foo(self): pass\n");
    lib.push_str("def sink(p):\n    p.foo()\n");
    lib.push_str("def use():\n    sink(A())\n");
    lib.push_str("def caller(h, a):\n    h(a)\n");
    lib.push_str("def go():\n    caller(sink, big)\n");
    let mut calls = String::from("def extra():\n");
    for i in 0..300 {
        calls.push_str(&format!("    caller(t{i}, 0)\n"));
    }
    let before = lib.clone() + "def extra():\n    pass\n";
    let after = lib + &calls;
    // Before the edit `big` (saturated) reaches `p`; after it `h` is saturated, so the call
    // `h(a)` passes nothing on.
    assert!(!has_edge(&graph_of(&[("m", &before)]), "m.sink", "m.A.foo"));
    assert!(has_edge(&graph_of(&[("m", &after)]), "m.sink", "m.A.foo"));
    assert_incremental(&[("m", &before)], &[("m", &after)], UpdateKind::Incremental);
}

/// A node holding more values than `DEFER_AT` passes them on once the queue empties: calls
/// and attribute reads through it still reach every value, including through constraints
/// registered on it after it was deferred (the method call on `x` below is a read of `x.m`
/// whose result is called), and values flowing on to another module's caller arrive.
#[test]
fn calls_through_a_node_with_many_values_reach_each_of_them() {
    let mut src = String::new();
    for i in 0..40 {
        src.push_str(&format!(
            "def f{i}(): pass\nclass C{i}:\n    def m(self): pass\n"
        ));
    }
    src.push_str("def pick(k):\n    x = None\n    g = None\n");
    for i in 0..40 {
        src.push_str(&format!(
            "    if k == {i}:\n        x = C{i}()\n        g = f{i}\n"
        ));
    }
    src.push_str("    g()\n    x.m()\n    return x\n");
    let user = "from m import pick\ndef use():\n    pick(1).m()\n";
    let graph = graph_of(&[("m", &src), ("u", user)]);
    for i in 0..40 {
        assert!(has_edge(&graph, "m.pick", &format!("m.f{i}")), "f{i}");
        assert!(has_edge(&graph, "m.pick", &format!("m.C{i}.m")), "C{i}.m");
        assert!(
            has_edge(&graph, "u.use", &format!("m.C{i}.m")),
            "use → C{i}.m"
        );
    }
}

/// A call keeps its first `MAX_CALL_ARGS` arguments: a generated call with more still
/// analyses, and what flows through the kept arguments still arrives.
#[test]
fn a_call_with_more_arguments_than_an_op_counts_keeps_the_first_ones() {
    let mut src = String::from("def g(): pass\ndef f(a, *rest):\n    a()\nf(g");
    for _ in 0..MAX_CALL_ARGS + 10 {
        src.push_str(", 0");
    }
    src.push_str(")\n");
    let facts = facts_of("m", &src);
    let lens: Vec<u16> = facts
        .ops
        .iter()
        .filter_map(|op| match *op {
            Op::Call { args_len, .. } => Some(args_len),
            _ => None,
        })
        .collect();
    assert!(lens.contains(&(MAX_CALL_ARGS as u16)), "{lens:?}");
    assert_edges(&[("m", &src)], &[("m", "m.f"), ("m.f", "m.g")]);
}

/// The layout interns strings on one core while it numbers nodes on the other: the ids must
/// be those of a module-at-a-time serial layout (strings, name, package prefixes, qualified
/// names), and nodes, sites, ops and definitions must be numbered module after module.
#[test]
fn a_full_layout_gives_the_ids_of_a_serial_one() {
    use super::resolve::Solver;
    use super::util::Interner;
    let sources = [
        ("pkg.__init__", "from .sub.mod import f\n"),
        (
            "pkg.sub.mod",
            "import os\n\ndef f(x):\n    return g(x)\n\ndef g(y):\n    return os.path.join(y)\n\nclass C:\n    def m(self):\n        return f(self)\n",
        ),
        ("top", "from pkg import f\nf(1)\nlambda: f(2)\n"),
    ];
    let facts: Vec<std::sync::Arc<ModuleFacts>> = sources
        .iter()
        .map(|(name, source)| std::sync::Arc::new(facts_of(name, source)))
        .collect();
    let mut serial = Interner::default();
    let mut expected = Vec::new();
    for f in &facts {
        let sym_map: Vec<u32> = f.strings.iter().map(|s| serial.intern(s)).collect();
        let name = serial.intern(&f.name);
        let parts: Vec<&str> = f.name.split('.').collect();
        let prefixes: Vec<u32> = (1..parts.len())
            .map(|i| serial.intern(&parts[..i].join(".")))
            .collect();
        let qualnames: Vec<u32> = f.defs.iter().map(|d| serial.intern(&d.qualname)).collect();
        expected.push((sym_map, name, prefixes, qualnames));
    }
    let solver = Solver::build(facts.clone());
    let (mut nodes, mut sites, mut ops, mut defs) = (0u32, 0u32, 0u32, 0u32);
    for (slot, (m, (sym_map, name, prefixes, qualnames))) in
        solver.mods.iter().zip(&expected).enumerate()
    {
        assert_eq!(&m.sym_map, sym_map, "module {slot}");
        assert_eq!(m.name, *name);
        assert_eq!(solver.syms.resolve(m.name), &*m.facts.name);
        for p in prefixes {
            assert!(solver.packages.contains(p), "{}", serial.resolve(*p));
        }
        for (i, &q) in qualnames.iter().enumerate() {
            assert_eq!(solver.syms.resolve(q), &*m.facts.defs[i].qualname);
        }
        assert_eq!(m.node_map.get(0), (m.facts.num_nodes > 0).then_some(nodes));
        assert_eq!(
            m.site_map.get(0),
            (!m.facts.sites.is_empty()).then_some(sites)
        );
        assert_eq!(m.op_map.get(0), (!m.facts.ops.is_empty()).then_some(ops));
        let own_defs: Vec<u32> = (defs..defs + m.facts.defs.len() as u32).collect();
        assert_eq!(m.def_map, own_defs);
        nodes += m.facts.num_nodes;
        sites += m.facts.sites.len() as u32;
        ops += m.facts.ops.len() as u32;
        defs += m.facts.defs.len() as u32;
    }
    assert_eq!(solver.mods.len(), 3);
    assert!(nodes > 0 && sites > 0 && ops > 0 && defs > 3);
}

#[test]
fn base_classes_named_through_aliases_and_imports_solve_from_scratch() {
    // `import lib` changes what `X`, and so `E`'s base class, resolves to.
    let lib = "class K:\n    def m(self): pass\n";
    let alias = "X = lib.K\nclass E(X):\n    def go(self):\n        self.m()\nE().go()\n";
    let imported = format!("import lib\n{alias}");
    assert_both_ways(&[("lib", lib)], alias, &imported, UpdateKind::Full);
    // `K` added to `lib` changes what `X` imported from it is.
    let reader =
        "from lib import K as X\nclass E(X):\n    def go(self):\n        self.m()\nE().go()\n";
    let without = "class J:\n    def m(self): pass\n";
    assert_both_ways_in(&[("main", reader)], "lib", without, lib, UpdateKind::Full);
}

/// A program, and sources of a module nothing in it reads that may subclass its classes
/// (`Base.run` calls `self.hook()`, which an override in the module changes), call into it,
/// pass it callbacks, import from its packages, star-import from it, have its own `__all__`,
/// be empty or not parse: for modules added to the program and taken out of it.
fn program_and_unread_modules() -> ([(&'static str, &'static str); 4], [&'static str; 8]) {
    let lib = "def a(): pass\ndef b(): pass\nclass Base:\n    def hook(self): pass\n    def run(self):\n        self.hook()\ndef apply(f):\n    f()\n";
    let main = "import lib\ndef use():\n    lib.Base().run()\n    lib.a()\n";
    let pkg = "from . import inner\n";
    let inner = "def helper(): pass\n";
    let program = [
        ("lib", lib),
        ("main", main),
        ("pkg.__init__", pkg),
        ("pkg.inner", inner),
    ];
    let sources = [
        "import lib\nlib.a()\n",
        "from lib import Base, b\nclass Sub(Base):\n    def hook(self): b()\nSub().run()\n",
        "import lib\nimport main\ndef cb(): lib.b()\nlib.apply(cb)\nmain.use()\n",
        "from pkg.inner import helper\nhelper()\n",
        "from lib import *\na()\nBase().run()\n",
        "__all__ = ['f']\ndef f(): pass\nf()\n",
        "",
        "def broken(:\n    lib.a()\n",
    ];
    (program, sources)
}

/// Solves `before`, then adds `added` and removes `removed` in one update; checks the kind of
/// update, that its report contains `why` and that the graph is the one a solve from scratch
/// gives.
fn assert_bulk(
    before: &[(&str, &str)],
    added: &[(&str, &str)],
    removed: &[&str],
    expect: UpdateKind,
    why: &str,
) {
    let mut program = ProgramAnalysis::new();
    for (name, source) in before {
        program.set_module(facts_of(name, source));
    }
    let _ = program.graph();
    for (name, source) in added {
        program.set_module(facts_of(name, source));
    }
    for name in removed {
        program.remove_module(name.strip_suffix(".__init__").unwrap_or(name));
    }
    let updated = program.graph().clone();
    let report = program.last_report();
    assert_eq!(
        program.last_update(),
        expect,
        "the kind of update: {report}"
    );
    assert!(report.contains(why), "{why:?} not in the report: {report}");
    let mut after: Vec<(&str, &str)> = before
        .iter()
        .copied()
        .filter(|(n, _)| !removed.contains(n))
        .collect();
    after.extend_from_slice(added);
    let scratch = graph_of(&after);
    assert_eq!(edges_of(&updated), edges_of(&scratch), "edges");
    assert_eq!(sites_of(&updated), sites_of(&scratch), "call sites");
}

#[test]
fn modules_added_or_removed_together_go_in_an_order_that_works_or_are_solved_from_scratch() {
    let (base, _) = program_and_unread_modules();
    let f = "import lib\ndef f(): lib.a()\n";
    // The first in name order imports the second: the second is added first.
    assert_bulk(
        &base,
        &[("extra_a", "import extra_b\nextra_b.f()\n"), ("extra_b", f)],
        &[],
        UpdateKind::Incremental,
        "",
    );
    // A package and a module under it, the package first.
    assert_bulk(
        &base,
        &[("fresh.__init__", "def g(): pass\n"), ("fresh.tool", f)],
        &[],
        UpdateKind::Incremental,
        "",
    );
    // A new package whose `__init__.py` imports its new submodule: neither can go first.
    assert_bulk(
        &base,
        &[
            ("fresh.__init__", "from fresh.tool import f\nf()\n"),
            ("fresh.tool", f),
        ],
        &[],
        UpdateKind::Full,
        "module fresh added: it and other modules added with it read each other",
    );
    // The program imports one of them: found before any is added.
    let mut with_reader = base.to_vec();
    with_reader.push(("reader", "import extra_b\nextra_b.f()\n"));
    assert_bulk(
        &with_reader,
        &[("extra_a", f), ("extra_b", f)],
        &[],
        UpdateKind::Full,
        "modules added: `reader` imports `extra_b`",
    );
    // Removed together: the importer goes first (the second in name order imports the
    // first), then the module it imported, unless the import made a module value.
    let mut with_three = base.to_vec();
    with_three.push(("extra_a", f));
    with_three.push(("extra_b", "from extra_a import f\nf()\n"));
    with_three.push(("extra_c", "import extra_d\nextra_d.f()\n"));
    with_three.push(("extra_d", f));
    assert_bulk(
        &with_three,
        &[],
        &["extra_a", "extra_b"],
        UpdateKind::Incremental,
        "",
    );
    assert_bulk(
        &with_three,
        &[],
        &["extra_c", "extra_d"],
        UpdateKind::Full,
        "module extra_d removed: the module value of `extra_d` was made",
    );
    // A module that stays imports one of them: found before any is removed.
    assert_bulk(
        &with_three,
        &[],
        &["extra_b", "extra_d"],
        UpdateKind::Full,
        "modules removed: `extra_c` imports `extra_d`",
    );
    // A package whose `__init__.py` imports its submodule, both removed.
    let mut with_package = base.to_vec();
    with_package.push(("fresh.__init__", "from fresh.tool import f\n"));
    with_package.push(("fresh.tool", f));
    assert_bulk(
        &with_package,
        &[],
        &["fresh.__init__", "fresh.tool"],
        UpdateKind::Full,
        "module fresh removed: it and other modules removed with it read each other",
    );
    // More than `BULK_LIMIT` at once.
    let names: Vec<String> = (0..=32).map(|i| format!("many_{i:02}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), f)).collect();
    assert_bulk(
        &base,
        &many,
        &[],
        UpdateKind::Full,
        "33 modules added and 0 removed at once",
    );
}

#[test]
fn modules_nothing_reads_yet_are_added_incrementally() {
    let (before, new) = program_and_unread_modules();
    for source in new {
        for name in ["tool", "pkg.tool", "fresh.sub.tool"] {
            assert_incremental(&before, &[(name, source)], UpdateKind::Incremental);
        }
    }
    // Two new modules, the second importing the first (added in name order).
    assert_incremental(
        &before,
        &[
            ("extra_a", "def f(): pass\n"),
            ("extra_b", "import extra_a\nextra_a.f()\n"),
        ],
        UpdateKind::Incremental,
    );
    // A module the program already reads the name of: imported (plainly, from its package,
    // with a star), looked up on its package, or written in a base class.
    let readers = [
        ("reader", "import tool\ntool.f().go()\n", "tool"),
        ("reader", "from tool import f\nf().go()\n", "tool"),
        ("reader", "from tool import *\nf().go()\n", "tool"),
        (
            "reader",
            "import fresh.tool\nfresh.tool.f().go()\n",
            "fresh.tool",
        ),
        (
            "reader",
            "import fresh\nfresh.tool.f().go()\n",
            "fresh.tool",
        ),
        (
            "reader",
            "from pkg import tool\ntool.f().go()\n",
            "pkg.tool",
        ),
        ("reader", "import pkg\npkg.tool.f().go()\n", "pkg.tool"),
        (
            "reader",
            "import pkg\nclass C(pkg.tool.Base):\n    def hook(self): pass\nC().go()\n",
            "pkg.tool",
        ),
        ("reader", "import pkg.inner\npkg.f().go()\n", "pkg.__init__"),
        // `tool` is found in `pkg`, the star source, as its submodule.
        (
            "reader",
            "from pkg import *\nclass C(tool.Base):\n    def hook(self): pass\nC().go()\n",
            "pkg.tool",
        ),
    ];
    // Only the program's `tool` tells what `f()` returns, and that `go` calls `hook`.
    let tool = "class Base:\n    def go(self):\n        self.hook()\n    def hook(self): pass\ndef f():\n    return Base()\n";
    for (reader, source, name) in readers {
        let mut with_reader = before.to_vec();
        with_reader.retain(|(n, _)| *n != name);
        with_reader.push((reader, source));
        assert_incremental(&with_reader, &[(name, tool)], UpdateKind::Full);
    }
}

#[test]
fn a_module_added_incrementally_is_edited_incrementally_after() {
    let lib = "def a(): pass\ndef b(): pass\nclass Base:\n    def hook(self): pass\n    def run(self):\n        self.hook()\n";
    let first = "from lib import Base, a\nclass Sub(Base):\n    def hook(self): a()\nSub().run()\n";
    let second = "from lib import Base, b\nclass Sub(Base):\n    def hook(self): b()\ndef more(): pass\nSub().run()\nmore()\n";
    let mut program = ProgramAnalysis::new();
    program.set_module(facts_of("lib", lib));
    let _ = program.graph();
    for (source, expect) in [
        (first, UpdateKind::Incremental),
        (second, UpdateKind::Incremental),
    ] {
        program.set_module(facts_of("tool", source));
        let incremental = program.graph().clone();
        assert_eq!(program.last_update(), expect, "{}", program.last_report());
        let scratch = graph_of(&[("lib", lib), ("tool", source)]);
        assert_eq!(edges_of(&incremental), edges_of(&scratch));
        assert_eq!(sites_of(&incremental), sites_of(&scratch));
    }
    assert!(has_edge(program.graph(), "tool.Sub.hook", "lib.b"));
    assert!(has_edge(program.graph(), "lib.Base.run", "tool.Sub.hook"));
}

/// `may_be_read_after_dot` answers for every name the set `names_base_classes_read` can hold
/// outside the module that writes it: base classes after a dot and through aliases, imported
/// attributes (read in the module they come from), and any name of a module with star imports
/// (read there and in its star sources). Names in none of those places get false, which is
/// what lets a module added or removed skip building that set.
#[test]
fn the_filter_before_the_base_class_reads_misses_none_of_them() {
    let modules = [
        ("pkg.__init__", "from . import tool
"),
        ("pkg.tool", "class Base:
    pass
"),
        (
            "user",
            "import pkg\nfrom pkg import tool as t\nalias = pkg.tool\nB = t.Base\nclass C(alias.Base):\n    pass\nclass D(B):\n    pass\nclass E(pkg.deep.more.Last):\n    pass\nX = pkg.deep2.Last2\nclass H(X):\n    pass\n",
        ),
        ("starry", "from pkg import *\nclass F(tool.Base):\n    pass\nclass K(Thing):\n    pass\n"),
        ("plain", "def helper():\n    return 1\nclass G:\n    pass\n"),
    ];
    use super::resolve::{Solver, NO};
    let facts: Vec<std::sync::Arc<ModuleFacts>> = modules
        .iter()
        .map(|(name, source)| std::sync::Arc::new(facts_of(name, source)))
        .collect();
    let solver = Solver::build(facts);
    let slot = |module: &str| solver.module_by_name[&solver.syms.get(module).expect(module)];
    let read = solver.names_base_classes_read(NO, &[]);
    // Every name read in any module, or in a module other than its reader's, passes.
    let mut checked = 0;
    for &(module, sym) in &read {
        if module == NO || module == slot("pkg") {
            checked += 1;
            let name = solver.syms.resolve(sym);
            assert!(
                solver.may_be_read_after_dot(sym),
                "`{name}` is read after a dot or from another module"
            );
        }
    }
    // Every name read in its own module passes too, with the module's own base classes,
    // aliases and imports (what a module whose static bindings change checks first).
    for &(module, sym) in read.iter().filter(|&&(m, _)| m != NO) {
        let name = solver.syms.resolve(sym);
        let names: super::util::FxSet<u32> = [sym].into_iter().collect();
        assert!(
            solver.names_in_own_bases(module, &names) || solver.may_be_read_after_dot(sym),
            "`{name}` is read in module {module}"
        );
    }
    // Read in any module: after a dot (`deep2` and `Last2` only through the alias `X`).
    for name in ["Base", "tool", "deep", "more", "Last", "deep2", "Last2"] {
        let sym = solver.syms.get(name).expect(name);
        assert!(read.contains(&(NO, sym)), "`{name}` is read in any module");
    }
    // Read in `pkg`: `t` is `tool` imported from it, and `starry` reads its free names in
    // its own scopes and then in `pkg`, its star source; not in any module.
    for (module, name) in [("pkg", "tool"), ("starry", "Thing"), ("pkg", "Thing")] {
        let sym = solver.syms.get(name).expect(name);
        assert!(
            read.contains(&(slot(module), sym)),
            "`{name}` is read in `{module}`"
        );
    }
    let thing = solver.syms.get("Thing").unwrap();
    assert!(
        !read.contains(&(NO, thing)),
        "`Thing` is read in any module"
    );
    assert!(!read.contains(&(slot("user"), thing)));
    assert!(checked >= 9, "{checked}");
    // Names read in none of those places do not pass.
    for name in ["helper", "G", "plain"] {
        let sym = solver.syms.get(name).expect(name);
        assert!(
            !solver.may_be_read_after_dot(sym),
            "`{name}` is read nowhere"
        );
        let names: super::util::FxSet<u32> = [sym].into_iter().collect();
        assert!(!solver.names_in_own_bases(slot("plain"), &names));
    }
    // A module's own base class paths and aliases hold their names at any place.
    for name in ["alias", "B", "t", "pkg", "X"] {
        let names: super::util::FxSet<u32> =
            [solver.syms.get(name).expect(name)].into_iter().collect();
        assert!(solver.names_in_own_bases(slot("user"), &names), "`{name}`");
    }
}

/// The region of the last incremental update, from its report (`... region of N nodes and
/// M constraints`): its nodes and its constraints.
fn region_of(program: &ProgramAnalysis) -> (usize, usize) {
    let report = program.last_report();
    let words: Vec<&str> = report
        .split("region of ")
        .nth(1)
        .unwrap_or_default()
        .split(' ')
        .collect();
    match words.as_slice() {
        [nodes, "nodes", "and", constraints, ..] => (
            nodes.parse().unwrap_or_else(|_| panic!("{report}")),
            constraints.parse().unwrap_or_else(|_| panic!("{report}")),
        ),
        _ => panic!("no region in the report: {report}"),
    }
}

fn region_nodes(program: &ProgramAnalysis) -> usize {
    region_of(program).0
}

/// Statements added to and removed from a module's top level, at its start, in its middle
/// and at its end, each way: the module code keeps the ops both versions share (and the
/// nodes, sites and allocations they name), and the result is a solve from scratch's. Among
/// them, a name assigned again between two reads (`x = lib.Other()`), which changes what the
/// later reads see, and a call added at the top, which shifts the module code's call sites.
#[test]
fn top_level_statements_added_or_removed_keep_the_module_code_they_share() {
    let lib = "class A:\n    def go(self): pass\nclass Other:\n    def go(self): pass\ndef make():\n    return A()\ndef helper(): pass\n";
    let base = "import lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n";
    let variants = [
        "import os\nimport lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
        "import lib\nfrom lib import make\nx = make()\n_PROBE = 1\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
        "import lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n_PROBE = 1\n",
        "import lib\nfrom lib import make\nx = make()\nx = lib.Other()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
        "lib.helper()\nimport lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
        "import lib\nfrom lib import make\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
        "import lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\nprint(len([1]))\n",
        "def first():\n    return make()\nimport lib\nfrom lib import make\nx = make()\nclass K:\n    def m(self):\n        return lib.helper()\ny = x\ny.go()\nprint(len([1]))\n",
    ];
    for v in variants {
        assert_incremental(
            &[("lib", lib), ("main", base)],
            &[("main", v)],
            UpdateKind::Incremental,
        );
        assert_incremental(
            &[("lib", lib), ("main", v)],
            &[("main", base)],
            UpdateKind::Incremental,
        );
    }
    // A constant added at the end changes two ops (the constant and the copy into the
    // module's name) and nothing they did not write: the names the module code had
    // assigned keep their values.
    let mut program = ProgramAnalysis::new();
    program.set_module(facts_of("lib", lib));
    program.set_module(facts_of("main", base));
    let _ = program.graph();
    program.set_module(facts_of("main", variants[2]));
    let _ = program.graph();
    assert_eq!(program.last_update(), UpdateKind::Incremental);
    assert!(region_nodes(&program) <= 2, "{}", program.last_report());
    assert!(has_edge(program.graph(), "main", "lib.A.go"));
}

/// The loads `simplify` merged into one are part of what the kept load is: a third read of
/// a property added in the same body is a call at its place after the update, though the
/// body's other ops are kept.
#[test]
fn a_merged_load_added_is_a_call_after_an_aligned_update() {
    let src = "class C:\n    @property\n    def p(self):\n        return 1\n\ndef f(c):\n    a = c.p\n    b = c.p\n    return a, b\n\nf(C())\n";
    let edited = src.replace("    return a, b\n", "    b = c.p\n    return a, b\n");
    assert_incremental(
        &[("main", src)],
        &[("main", &edited)],
        UpdateKind::Incremental,
    );
    assert_incremental(
        &[("main", &edited)],
        &[("main", src)],
        UpdateKind::Incremental,
    );
}
