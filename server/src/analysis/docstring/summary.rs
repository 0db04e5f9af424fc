//! The built-in engine's summary lines: deterministic text from a name and the shape of the
//! body (`get_user_by_id` gives "Get user by id."; a predicate `is_valid` gives "Return whether
//! … is valid."; a generator "Yield …"). No model is involved, so the same code always gets
//! the same words.

/// What is being summarised, with what the body's shape says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Function(FunctionShape<'a>),
    /// A method of the class named `class`.
    Method {
        class: &'a str,
        shape: FunctionShape<'a>,
    },
    /// A `@property` of the class named `class`.
    Property {
        class: &'a str,
    },
    Class {
        is_exception: bool,
    },
}

/// What the body does, as far as the summary cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FunctionShape<'a> {
    pub is_generator: bool,
    pub returns_value: bool,
    /// The return annotation says `bool`.
    pub returns_bool: bool,
    /// The first parameter a caller passes (not `self`/`cls`).
    pub first_param: Option<&'a str>,
}

/// The summary line for `name`, ending with a full stop.
pub fn summary(name: &str, subject: Subject<'_>) -> String {
    let text = match subject {
        Subject::Function(shape) => function_summary(name, None, shape),
        Subject::Method { class, shape } => function_summary(name, Some(class), shape),
        Subject::Property { class } => property_summary(name, class),
        Subject::Class { is_exception } => class_summary(name, is_exception),
    };
    sentence(&text)
}

/// The summary of a module from its public definitions (name and one-line summary each): the
/// summary line names the first few, the description lists them all.
pub fn module_summary(module: &str, definitions: &[(String, String)]) -> (String, Vec<String>) {
    let last = module.rsplit('.').next().unwrap_or(module);
    let title = if last.is_empty() || last == "__init__" || last == "__main__" {
        "This module".to_string()
    } else {
        capitalize(&words(last).join(" "))
    };
    if definitions.is_empty() {
        return (format!("{title}."), Vec::new());
    }
    let names: Vec<String> = definitions
        .iter()
        .take(3)
        .map(|(n, _)| format!("`{n}`"))
        .collect();
    let more = definitions.len().saturating_sub(3);
    let listed = match (names.len(), more) {
        (1, _) => names[0].clone(),
        (_, 0) => format!(
            "{} and {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
        _ => format!("{} and {more} more", names.join(", ")),
    };
    let summary = format!("{title}: {listed}.");
    let description = if definitions.len() > 1 {
        definitions
            .iter()
            .map(|(n, s)| format!("- `{n}`: {}", sentence(s)))
            .collect()
    } else {
        Vec::new()
    };
    (summary, description)
}

/// A placeholder description of a parameter or attribute from its name ("The user id.").
pub fn describe_name(name: &str) -> String {
    let w = words(name.trim_start_matches('*'));
    if name.starts_with("**") {
        return "Additional keyword arguments.".to_string();
    }
    if name.starts_with('*') {
        return "Additional positional arguments.".to_string();
    }
    if w.is_empty() {
        return "The value.".to_string();
    }
    if matches!(
        w[0].as_str(),
        "is" | "has" | "can" | "should" | "was" | "use" | "allow"
    ) {
        return sentence(&format!("Whether to {}", w.join(" ")).replace("to is ", "it is "));
    }
    sentence(&format!("The {}", w.join(" ")))
}

/// What an exception in a Raises section means, from its name ("If a value error occurs.").
pub fn describe_exception(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    let w = words(last.trim_end_matches("Error").trim_end_matches("Exception"));
    if w.is_empty() {
        return "If an error occurs.".to_string();
    }
    let phrase = w.join(" ");
    sentence(&format!("If {} {phrase} error occurs", article(&phrase)))
}

fn function_summary(name: &str, class: Option<&str>, shape: FunctionShape<'_>) -> String {
    let the_class = class.map(|c| format!("the {}", words(c).join(" ")));
    if let Some(text) = dunder_summary(name, the_class.as_deref(), shape) {
        return text;
    }
    let w = words(name);
    if w.is_empty() {
        return "Run".to_string();
    }
    let (first, rest) = (w[0].as_str(), w[1..].join(" "));
    let subject = match (&the_class, shape.first_param) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => format!("`{p}`"),
        (None, None) => "it".to_string(),
    };
    if matches!(
        first,
        "is" | "has" | "can" | "should" | "was" | "were" | "are" | "does" | "needs"
    ) {
        let verb = match first {
            "are" | "is" | "was" | "were" => first.to_string(),
            "needs" => "needs".to_string(),
            _ => first.to_string(),
        };
        return if rest.is_empty() {
            format!("Return whether {subject} {verb}")
        } else {
            format!("Return whether {subject} {verb} {rest}")
        };
    }
    if shape.is_generator {
        let what = if matches!(first, "iter" | "iterate" | "gen" | "generate" | "yield") {
            rest
        } else {
            w.join(" ")
        };
        return if what.is_empty() {
            "Yield the values".to_string()
        } else {
            format!("Yield {what}")
        };
    }
    match first {
        "to" if !rest.is_empty() => return format!("Convert to {rest}"),
        "as" if !rest.is_empty() => return format!("Return as {rest}"),
        "from" if !rest.is_empty() => return format!("Create from {rest}"),
        "on" if !rest.is_empty() => return format!("Handle {rest}"),
        "main" if rest.is_empty() => return "Run the program".to_string(),
        _ => {}
    }
    if is_verb(first) {
        return capitalize(&w.join(" "));
    }
    if shape.returns_bool {
        return format!("Return whether {subject} is {}", w.join(" "));
    }
    if shape.returns_value {
        return format!("Return the {}", w.join(" "));
    }
    format!("Handle {}", w.join(" "))
}

fn dunder_summary(name: &str, class: Option<&str>, shape: FunctionShape<'_>) -> Option<String> {
    if !(name.starts_with("__") && name.ends_with("__") && name.len() > 4) {
        return None;
    }
    let c = class.unwrap_or("the object");
    let p = shape
        .first_param
        .map_or_else(|| "the other value".to_string(), |p| format!("`{p}`"));
    let compare = |what: &str| format!("Return whether {c} is {what} {p}");
    Some(match name {
        "__init__" => format!("Initialize {c}"),
        "__post_init__" => format!("Finish initializing {c}"),
        "__new__" => format!("Create a new instance of {}", c.trim_start_matches("the ")),
        "__repr__" => format!("Return the representation of {c}"),
        "__str__" => format!("Return {c} as a string"),
        "__len__" => format!("Return the number of items in {c}"),
        "__iter__" if shape.is_generator => format!("Yield the items of {c}"),
        "__iter__" => format!("Return an iterator over {c}"),
        "__next__" => "Return the next item".to_string(),
        "__contains__" => format!("Return whether {c} contains {p}"),
        "__getitem__" => format!("Return the item for {p}"),
        "__setitem__" => format!("Set the item for {p}"),
        "__delitem__" => format!("Delete the item for {p}"),
        "__eq__" => format!("Return whether {c} equals {p}"),
        "__ne__" => format!("Return whether {c} differs from {p}"),
        "__lt__" => compare("less than"),
        "__le__" => compare("less than or equal to"),
        "__gt__" => compare("greater than"),
        "__ge__" => compare("greater than or equal to"),
        "__hash__" => format!("Return the hash of {c}"),
        "__bool__" => format!("Return whether {c} is true"),
        "__call__" => format!("Call {c}"),
        "__enter__" | "__aenter__" => "Enter the context".to_string(),
        "__exit__" | "__aexit__" => "Exit the context".to_string(),
        "__getattr__" | "__getattribute__" => format!("Return the attribute named {p}"),
        "__setattr__" => format!("Set the attribute named {p}"),
        _ => format!("Implement `{name}`"),
    })
}

fn property_summary(name: &str, class: &str) -> String {
    let c = words(class).join(" ");
    let w = words(name);
    match w.first().map(String::as_str) {
        Some("is" | "has" | "can" | "should") => {
            format!("Whether the {c} {}", w.join(" "))
        }
        _ if w.is_empty() => format!("A property of the {c}"),
        _ => format!("The {} of the {c}", w.join(" ")),
    }
}

fn class_summary(name: &str, is_exception: bool) -> String {
    let stem = name
        .trim_end_matches("Error")
        .trim_end_matches("Exception")
        .trim_end_matches("Warning");
    if is_exception && !stem.is_empty() && stem.len() < name.len() {
        let what = words(stem).join(" ");
        let kind = if name.ends_with("Warning") {
            "Warning"
        } else {
            "Error"
        };
        return format!("{kind} for {} {what}", article(&what));
    }
    if is_exception {
        return format!("Error raised as `{name}`");
    }
    let what = words(name).join(" ");
    if what.is_empty() {
        return format!("The `{name}` class");
    }
    capitalize(&format!("{} {what}", article(&what)))
}

/// The words of an identifier, lower case: `get_user_by_id` and `getUserById` give
/// `get user by id`; `HTTPServer` gives `http server`; leading and trailing underscores drop.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut current = String::new();
        for (i, &ch) in chars.iter().enumerate() {
            let boundary = i > 0
                && ch.is_uppercase()
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
            if boundary && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.extend(ch.to_lowercase());
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

fn article(phrase: &str) -> &'static str {
    match phrase.chars().next() {
        Some(c) if "aeiou".contains(c) => "an",
        _ => "a",
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Capitalised, one full stop at the end.
fn sentence(text: &str) -> String {
    let text = capitalize(text.trim());
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

/// Verbs that start a function name in the imperative ("get", "load", "reserve").
pub(crate) fn is_verb(word: &str) -> bool {
    VERBS.binary_search(&word).is_ok()
}

/// Sorted, for `binary_search`.
const VERBS: &[&str] = &[
    "accept",
    "acquire",
    "activate",
    "add",
    "adjust",
    "aggregate",
    "allocate",
    "allow",
    "append",
    "apply",
    "archive",
    "assert",
    "assign",
    "attach",
    "authenticate",
    "authorize",
    "bind",
    "build",
    "cache",
    "calculate",
    "call",
    "cancel",
    "capture",
    "change",
    "charge",
    "check",
    "clean",
    "cleanup",
    "clear",
    "clone",
    "close",
    "collect",
    "combine",
    "commit",
    "compare",
    "compile",
    "complete",
    "compute",
    "configure",
    "confirm",
    "connect",
    "construct",
    "consume",
    "convert",
    "copy",
    "count",
    "create",
    "decode",
    "decorate",
    "delete",
    "deliver",
    "deserialize",
    "destroy",
    "detect",
    "determine",
    "disable",
    "disconnect",
    "dispatch",
    "display",
    "do",
    "download",
    "drop",
    "dump",
    "emit",
    "enable",
    "encode",
    "ensure",
    "enter",
    "estimate",
    "evaluate",
    "execute",
    "exit",
    "expand",
    "export",
    "extend",
    "extract",
    "fail",
    "fetch",
    "fill",
    "filter",
    "find",
    "finish",
    "fix",
    "flush",
    "format",
    "generate",
    "get",
    "group",
    "guess",
    "handle",
    "hash",
    "hide",
    "import",
    "increment",
    "index",
    "infer",
    "init",
    "initialize",
    "insert",
    "install",
    "invalidate",
    "invoke",
    "join",
    "keep",
    "list",
    "load",
    "lock",
    "log",
    "lookup",
    "make",
    "map",
    "mark",
    "match",
    "merge",
    "migrate",
    "move",
    "normalize",
    "notify",
    "open",
    "order",
    "pack",
    "parse",
    "patch",
    "pay",
    "perform",
    "pick",
    "place",
    "plot",
    "poll",
    "pop",
    "populate",
    "post",
    "prepare",
    "print",
    "process",
    "publish",
    "pull",
    "push",
    "put",
    "query",
    "queue",
    "raise",
    "read",
    "rebuild",
    "receive",
    "record",
    "reduce",
    "refresh",
    "refund",
    "register",
    "release",
    "reload",
    "remove",
    "rename",
    "render",
    "reorder",
    "replace",
    "report",
    "request",
    "require",
    "reserve",
    "reset",
    "resize",
    "resolve",
    "restock",
    "restore",
    "retry",
    "return",
    "reverse",
    "run",
    "sanitize",
    "save",
    "scan",
    "schedule",
    "search",
    "select",
    "send",
    "serialize",
    "serve",
    "set",
    "setup",
    "ship",
    "show",
    "shutdown",
    "skip",
    "sort",
    "split",
    "start",
    "stop",
    "store",
    "strip",
    "submit",
    "subscribe",
    "sum",
    "swap",
    "sync",
    "take",
    "teardown",
    "test",
    "toggle",
    "track",
    "transform",
    "translate",
    "trim",
    "truncate",
    "try",
    "undo",
    "unlock",
    "unpack",
    "unregister",
    "unsubscribe",
    "update",
    "upload",
    "upsert",
    "use",
    "validate",
    "verify",
    "visit",
    "wait",
    "walk",
    "warn",
    "watch",
    "wrap",
    "write",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str) -> String {
        summary(name, Subject::Function(FunctionShape::default()))
    }

    fn returning(name: &str) -> String {
        summary(
            name,
            Subject::Function(FunctionShape {
                returns_value: true,
                ..Default::default()
            }),
        )
    }

    #[test]
    fn verbs_start_the_summary_in_the_imperative() {
        assert_eq!(f("get_user_by_id"), "Get user by id.");
        assert_eq!(f("loadConfigFile"), "Load config file.");
        assert_eq!(f("_reserve_stock"), "Reserve stock.");
        assert_eq!(f("main"), "Run the program.");
        assert_eq!(f("to_dict"), "Convert to dict.");
        assert_eq!(f("from_json"), "Create from json.");
        assert_eq!(f("on_click"), "Handle click.");
    }

    #[test]
    fn predicates_say_return_whether() {
        assert_eq!(f("is_valid"), "Return whether it is valid.");
        let shape = FunctionShape {
            first_param: Some("email"),
            ..Default::default()
        };
        assert_eq!(
            summary("is_valid_email", Subject::Function(shape)),
            "Return whether `email` is valid email."
        );
        assert_eq!(
            summary(
                "has_stock",
                Subject::Method {
                    class: "InventoryItem",
                    shape: FunctionShape::default()
                }
            ),
            "Return whether the inventory item has stock."
        );
        let shape = FunctionShape {
            returns_bool: true,
            ..Default::default()
        };
        assert_eq!(
            summary("empty", Subject::Function(shape)),
            "Return whether it is empty."
        );
    }

    #[test]
    fn generators_yield_and_nouns_are_returned() {
        let shape = FunctionShape {
            is_generator: true,
            ..Default::default()
        };
        assert_eq!(
            summary("iter_lines", Subject::Function(shape)),
            "Yield lines."
        );
        assert_eq!(summary("chunks", Subject::Function(shape)), "Yield chunks.");
        assert_eq!(returning("subtotal"), "Return the subtotal.");
        assert_eq!(f("callback"), "Handle callback.");
    }

    #[test]
    fn dunders_properties_and_classes() {
        let m = |name| {
            summary(
                name,
                Subject::Method {
                    class: "OrderLine",
                    shape: FunctionShape {
                        first_param: Some("other"),
                        ..Default::default()
                    },
                },
            )
        };
        assert_eq!(m("__init__"), "Initialize the order line.");
        assert_eq!(m("__eq__"), "Return whether the order line equals `other`.");
        assert_eq!(m("__frobnicate__"), "Implement `__frobnicate__`.");
        assert_eq!(
            summary("total", Subject::Property { class: "Cart" }),
            "The total of the cart."
        );
        assert_eq!(
            summary("is_empty", Subject::Property { class: "Cart" }),
            "Whether the cart is empty."
        );
        assert_eq!(
            summary(
                "OrderLine",
                Subject::Class {
                    is_exception: false
                }
            ),
            "An order line."
        );
        assert_eq!(
            summary("UnknownProductError", Subject::Class { is_exception: true }),
            "Error for an unknown product."
        );
        assert_eq!(
            summary(
                "HTTPServer",
                Subject::Class {
                    is_exception: false
                }
            ),
            "A http server."
        );
    }

    #[test]
    fn modules_list_what_they_define() {
        let defs = vec![
            ("Order".to_string(), "An order.".to_string()),
            ("place_order".to_string(), "Place order".to_string()),
        ];
        let (s, d) = module_summary("shop.orders", &defs);
        assert_eq!(s, "Orders: `Order` and `place_order`.");
        assert_eq!(
            d,
            vec!["- `Order`: An order.", "- `place_order`: Place order."]
        );
        let many: Vec<(String, String)> = (0..5)
            .map(|i| (format!("f{i}"), "F.".to_string()))
            .collect();
        assert_eq!(
            module_summary("pkg.__init__", &many).0,
            "This module: `f0`, `f1`, `f2` and 2 more."
        );
        assert_eq!(module_summary("util", &[]).0, "Util.");
    }

    #[test]
    fn names_become_words_and_descriptions() {
        assert_eq!(
            words("parseHTTPResponse2"),
            vec!["parse", "http", "response2"]
        );
        assert_eq!(words("__init__"), vec!["init"]);
        assert_eq!(describe_name("user_id"), "The user id.");
        assert_eq!(describe_name("*args"), "Additional positional arguments.");
        assert_eq!(describe_name("**kwargs"), "Additional keyword arguments.");
        assert_eq!(describe_exception("ValueError"), "If a value error occurs.");
        assert_eq!(
            describe_exception("shop.errors.UnknownProductError"),
            "If an unknown product error occurs."
        );
    }

    #[test]
    fn the_verb_list_is_sorted_for_binary_search() {
        assert!(
            VERBS.windows(2).all(|w| w[0] < w[1]),
            "VERBS must stay sorted"
        );
        assert!(is_verb("get") && is_verb("write") && !is_verb("subtotal"));
    }
}
