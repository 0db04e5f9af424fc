//! What the analysis knows about Python's builtins: their names, the methods of the builtin
//! types, and how the few builtins that move values around behave.
//!
//! Builtin callees are named as PyCG names them: `<builtin>.len` for builtin functions and
//! classes, `<**PyStr**>.join` for methods of builtin types.

/// Names in Python's `builtins` module (3.x), plus the Python 2 builtins code still uses.
pub(crate) const BUILTIN_NAMES: &[&str] = &[
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray",
    "bytes", "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits",
    "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float",
    "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
    "int", "isinstance", "issubclass", "iter", "len", "license", "list", "locals", "map", "max",
    "memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property",
    "quit", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted",
    "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip", "__import__",
    "__build_class__",
    // exceptions and warnings
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException",
    "BaseExceptionGroup", "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning",
    "ChildProcessError", "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError",
    "ConnectionResetError", "DeprecationWarning", "EOFError", "EncodingWarning",
    "EnvironmentError", "Exception", "ExceptionGroup", "FileExistsError", "FileNotFoundError",
    "FloatingPointError", "FutureWarning", "GeneratorExit", "IOError", "ImportError",
    "ImportWarning", "IndentationError", "IndexError", "InterruptedError", "IsADirectoryError",
    "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError", "ModuleNotFoundError",
    "NameError", "NotADirectoryError", "NotImplemented", "NotImplementedError", "OSError",
    "OverflowError", "PendingDeprecationWarning", "PermissionError", "ProcessLookupError",
    "RecursionError", "ReferenceError", "ResourceWarning", "RuntimeError", "RuntimeWarning",
    "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning", "SystemError",
    "SystemExit", "TabError", "TimeoutError", "TypeError", "UnboundLocalError",
    "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError",
    "UnicodeWarning", "UserWarning", "ValueError", "Warning", "ZeroDivisionError",
    // Python 2
    "basestring", "unicode", "long", "xrange", "raw_input", "reduce", "unichr", "execfile",
    "file", "cmp", "apply", "buffer", "coerce", "intern", "reload", "StandardError",
];

pub(crate) fn is_builtin(name: &str) -> bool {
    BUILTIN_NAMES.contains(&name)
}

/// The builtin types whose methods the analysis names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum BuiltinType {
    Str,
    List,
    Tuple,
    Dict,
    Set,
    Num,
}

impl BuiltinType {
    /// The prefix PyCG uses for the type's methods.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            BuiltinType::Str => "<**PyStr**>",
            BuiltinType::List => "<**PyList**>",
            BuiltinType::Tuple => "<**PyTuple**>",
            BuiltinType::Dict => "<**PyDict**>",
            BuiltinType::Set => "<**PySet**>",
            BuiltinType::Num => "<**PyNum**>",
        }
    }

    pub(crate) fn has_method(self, name: &str) -> bool {
        let methods: &[&str] = match self {
            BuiltinType::Str => STR_METHODS,
            BuiltinType::List => LIST_METHODS,
            BuiltinType::Tuple => &["count", "index"],
            BuiltinType::Dict => DICT_METHODS,
            BuiltinType::Set => SET_METHODS,
            BuiltinType::Num => NUM_METHODS,
        };
        methods.contains(&name)
    }

    /// The type a builtin class name stands for (`str.join(...)`).
    pub(crate) fn of_builtin_class(name: &str) -> Option<BuiltinType> {
        Some(match name {
            "str" | "unicode" | "basestring" => BuiltinType::Str,
            "list" => BuiltinType::List,
            "tuple" => BuiltinType::Tuple,
            "dict" => BuiltinType::Dict,
            "set" | "frozenset" => BuiltinType::Set,
            "int" | "float" | "complex" | "long" => BuiltinType::Num,
            _ => return None,
        })
    }
}

const STR_METHODS: &[&str] = &[
    "capitalize", "casefold", "center", "count", "decode", "encode", "endswith", "expandtabs",
    "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal",
    "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle",
    "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix",
    "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper",
    "zfill",
];

const LIST_METHODS: &[&str] = &[
    "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse",
    "sort",
];

const DICT_METHODS: &[&str] = &[
    "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault",
    "update", "values", "has_key", "iteritems", "iterkeys", "itervalues",
];

const SET_METHODS: &[&str] = &[
    "add", "clear", "copy", "difference", "difference_update", "discard", "intersection",
    "intersection_update", "isdisjoint", "issubset", "issuperset", "pop", "remove",
    "symmetric_difference", "symmetric_difference_update", "union", "update",
];

const NUM_METHODS: &[&str] = &[
    "as_integer_ratio", "bit_count", "bit_length", "conjugate", "from_bytes", "hex",
    "is_integer", "to_bytes", "fromhex",
];

/// Builtins that call the callables passed to them (with the elements of the other
/// arguments): the caller of the builtin is taken to call those callables.
pub(crate) fn calls_its_arguments(name: &str) -> bool {
    matches!(name, "map" | "filter" | "sorted" | "min" | "max" | "reduce")
}
