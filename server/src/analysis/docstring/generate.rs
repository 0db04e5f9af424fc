//! The built-in engine's docstrings: a `DocModel` for a function, class or module built from
//! its facts alone. Every section is true to the code by construction (the parameters in
//! signature order, Returns only when a value is returned, Yields for generators, Raises for
//! what escapes); the words are a deterministic summary from `summary.rs` and short
//! descriptions the user is expected to improve.

use crate::analysis::outline::{Outline, Symbol, SymbolKind};

use super::facts::{ClassFacts, FunctionFacts, ParamFact};
use super::parse::{parse_docstring, Entry, SectionKind};
use super::render::{DocEntry, DocModel, DocRaise, DocValue, DocstringStyle};
use super::summary::{self, describe_exception, describe_name, FunctionShape, Subject};

/// The model of a function's or method's docstring. `class` is the enclosing class's name for
/// methods.
pub fn function_model(name: &str, class: Option<&str>, facts: &FunctionFacts) -> DocModel {
    let returns_bool = facts
        .returns
        .as_ref()
        .and_then(|r| r.type_text())
        .is_some_and(|t| t == "bool");
    let first_param = facts
        .params
        .iter()
        .find(|p| {
            !matches!(
                p.kind,
                crate::analysis::outline::ParameterKind::VarPositional
                    | crate::analysis::outline::ParameterKind::VarKeyword
            )
        })
        .map(|p| p.name.as_str());
    let shape = FunctionShape {
        is_generator: facts.yields.is_some(),
        returns_value: facts.returns.is_some(),
        returns_bool,
        first_param,
    };
    let subject = match class {
        Some(class) if facts.is_property => Subject::Property { class },
        Some(class) => Subject::Method { class, shape },
        None => Subject::Function(shape),
    };
    let summary_line = summary::summary(name, subject);
    let returns = facts.returns.as_ref().map(|r| DocValue {
        type_: r.type_text().map(str::to_string),
        description: if returns_bool {
            "`True` if so, else `False`.".to_string()
        } else {
            result_description(name)
        },
    });
    let yields = facts.yields.as_ref().map(|y| DocValue {
        type_: y.annotation.clone(),
        description: "The next value.".to_string(),
    });
    DocModel {
        summary: summary_line,
        description: String::new(),
        params: if facts.is_property {
            Vec::new()
        } else {
            documented_params(&facts.params)
        },
        returns,
        yields,
        raises: raises_of(facts),
        attributes: Vec::new(),
        other_sections: Vec::new(),
    }
}

/// The model of an updated docstring: the sections the code requires (`required`, the built-in
/// model) with the human-written parts of `existing` kept: its summary and description, the
/// description (and type, when the code gives none) of every entry that is still right, and
/// every section the checks do not interpret (Examples, Notes, …) verbatim. Entries the code
/// no longer has are dropped, missing ones added, all in signature order. The result is
/// written in the style `existing` is in.
pub fn merge_with_existing(
    existing: &str,
    required: &DocModel,
    style: Option<DocstringStyle>,
) -> (DocModel, DocstringStyle) {
    let parsed = parse_docstring(existing, style);
    let keep = |kind: SectionKind, name: &str| -> Option<&Entry> {
        let bare = name.trim_start_matches('*');
        parsed
            .entries(kind)
            .find(|e| e.name.trim_start_matches('*') == bare)
    };
    let merge_entry = |kind: SectionKind, e: &DocEntry| -> DocEntry {
        match keep(kind, &e.name) {
            Some(old) => DocEntry {
                name: e.name.clone(),
                type_: e.type_.clone().or_else(|| old.type_text.clone()),
                description: if old.description.trim().is_empty() {
                    e.description.clone()
                } else {
                    old.description.clone()
                },
                // A human description already says what the default is, or chose not to.
                default: None,
            },
            None => e.clone(),
        }
    };
    let merge_value = |kind: SectionKind, v: &Option<DocValue>| -> Option<DocValue> {
        let v = v.as_ref()?;
        let old = parsed.entries(kind).next();
        Some(DocValue {
            type_: v
                .type_
                .clone()
                .or_else(|| old.and_then(|o| o.type_text.clone())),
            description: old
                .map(|o| o.description.clone())
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| v.description.clone()),
        })
    };
    let model = DocModel {
        summary: if parsed.summary.trim().is_empty() {
            required.summary.clone()
        } else {
            parsed.summary.clone()
        },
        description: parsed.description.clone(),
        params: required
            .params
            .iter()
            .map(|e| merge_entry(SectionKind::Args, e))
            .collect(),
        returns: merge_value(SectionKind::Returns, &required.returns),
        yields: merge_value(SectionKind::Yields, &required.yields),
        raises: required
            .raises
            .iter()
            .map(|r| DocRaise {
                name: r.name.clone(),
                description: keep(SectionKind::Raises, &r.name)
                    .map(|o| o.description.clone())
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or_else(|| r.description.clone()),
            })
            .collect(),
        attributes: parsed
            .entries(SectionKind::Attributes)
            .map(|a| DocEntry {
                name: a.name.clone(),
                type_: a.type_text.clone(),
                description: a.description.clone(),
                default: None,
            })
            .collect(),
        other_sections: parsed
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Other)
            .filter_map(|s| existing.get(s.range.clone()).map(str::to_string))
            .collect(),
    };
    (model, parsed.style)
}

/// A parsed docstring as a model, so that it can be rewritten part by part and rendered
/// again; `content` is the text it was parsed from (sections it does not interpret are kept
/// verbatim from it).
pub fn model_from_parsed(parsed: &super::parse::ParsedDocstring, content: &str) -> DocModel {
    let entry = |e: &Entry| DocEntry {
        name: e.name.clone(),
        type_: e.type_text.clone(),
        description: e.description.clone(),
        default: None,
    };
    let value = |kind: SectionKind| {
        parsed.entries(kind).next().map(|e| DocValue {
            type_: e.type_text.clone(),
            description: e.description.clone(),
        })
    };
    DocModel {
        summary: parsed.summary.clone(),
        description: parsed.description.clone(),
        params: parsed.entries(SectionKind::Args).map(entry).collect(),
        returns: value(SectionKind::Returns),
        yields: value(SectionKind::Yields),
        raises: parsed
            .entries(SectionKind::Raises)
            .map(|e| DocRaise {
                name: e.name.clone(),
                description: e.description.clone(),
            })
            .collect(),
        attributes: parsed.entries(SectionKind::Attributes).map(entry).collect(),
        other_sections: parsed
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Other)
            .filter_map(|s| content.get(s.range.clone()).map(str::to_string))
            .collect(),
    }
}

/// The exceptions a docstring lists: those that escape the function, then those it raises and
/// catches itself (pydoclint asks for both; see `docs/docstring-rules.md`).
pub fn raises_of(facts: &FunctionFacts) -> Vec<DocRaise> {
    let mut names: Vec<&str> = Vec::new();
    for name in facts.raises.iter().chain(&facts.caught_raises) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut raises: Vec<DocRaise> = names
        .into_iter()
        .map(|name| DocRaise {
            name: name.to_string(),
            description: describe_exception(name),
        })
        .collect();
    // An exception whose class is not known statically is named as the code writes it.
    for written in &facts.unnamed_raises {
        if !raises.iter().any(|r| &r.name == written) {
            raises.push(DocRaise {
                name: written.clone(),
                description: format!("The exception held by `{written}`."),
            });
        }
    }
    raises
}

/// The model of a class docstring: the constructor's parameters, what the constructor raises
/// (`init` holds its facts when the class defines `__init__`) and the public attributes.
pub fn class_model(
    name: &str,
    is_exception: bool,
    facts: &ClassFacts,
    init: Option<&FunctionFacts>,
) -> DocModel {
    DocModel {
        raises: init.map(raises_of).unwrap_or_default(),
        summary: summary::summary(name, Subject::Class { is_exception }),
        params: documented_params(&facts.init_params),
        attributes: facts
            .attributes
            .iter()
            .map(|a| DocEntry {
                name: a.name.clone(),
                type_: a.annotation.clone().or_else(|| a.inferred_type.clone()),
                description: describe_name(&a.name),
                default: None,
            })
            .collect(),
        ..DocModel::default()
    }
}

/// The model of a module docstring: what the module defines, from its outline. `summary_of`
/// gives the summary line planned for an undocumented definition (by qualified name), so the
/// module's list matches what its members will say.
pub fn module_model(outline: &Outline, summary_of: &dyn Fn(&str) -> Option<String>) -> DocModel {
    let definitions: Vec<(String, String)> = outline
        .symbols
        .iter()
        .filter(|s| !s.name.starts_with('_'))
        .map(|s| {
            let line = match &s.docstring {
                Some(_) => first_line_or_summary(s),
                None => summary_of(&s.qualified_name).unwrap_or_else(|| first_line_or_summary(s)),
            };
            (s.name.clone(), line)
        })
        .collect();
    let (summary_line, description) = summary::module_summary(&outline.module, &definitions);
    DocModel {
        summary: summary_line,
        description: description.join("\n"),
        ..DocModel::default()
    }
}

/// Whether a class reads as an exception class from its bases.
pub fn is_exception_class(symbol: &Symbol) -> bool {
    symbol.bases.iter().any(|b| {
        let last = b.rsplit('.').next().unwrap_or(b);
        last.ends_with("Error") || last.ends_with("Exception") || last.ends_with("Warning")
    })
}

fn first_line_or_summary(symbol: &Symbol) -> String {
    if let Some(doc) = &symbol.docstring {
        if let Some(line) = doc.text.lines().find(|l| !l.trim().is_empty()) {
            return line.trim().to_string();
        }
    }
    match symbol.kind {
        SymbolKind::Class => summary::summary(
            &symbol.name,
            Subject::Class {
                is_exception: is_exception_class(symbol),
            },
        ),
        _ => summary::summary(&symbol.name, Subject::Function(FunctionShape::default())),
    }
}

/// The parameters a docstring lists: all but the throwaway `_` and `__`.
fn documented_params(params: &[ParamFact]) -> Vec<DocEntry> {
    params
        .iter()
        .filter(|p| !p.name.chars().all(|c| c == '_'))
        .map(param_entry)
        .collect()
}

fn param_entry(p: &ParamFact) -> DocEntry {
    let description = if p.type_text() == Some("bool") {
        format!("Whether {} is enabled.", summary::words(&p.name).join(" "))
    } else {
        describe_name(&p.documented_name())
    };
    DocEntry {
        name: p.documented_name(),
        type_: p.type_text().map(str::to_string),
        description,
        default: p.default.clone(),
    }
}

/// "The user." for `get_user`: what is left of the name after a leading verb.
fn result_description(name: &str) -> String {
    if name.starts_with("__") {
        return "The result.".to_string();
    }
    let words = summary::words(name);
    let rest: Vec<&str> = match words.first().map(String::as_str) {
        Some(first) if summary::is_verb(first) || matches!(first, "to" | "as" | "from") => {
            words[1..].iter().map(String::as_str).collect()
        }
        _ => words.iter().map(String::as_str).collect(),
    };
    if rest.is_empty() {
        "The result.".to_string()
    } else {
        format!("The {}.", rest.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::docstring::facts::{class_facts, function_facts};
    use crate::analysis::docstring::render::{render, DocstringStyle};
    use crate::analysis::parse::parse_str;

    fn first_def(source: &str) -> (tree_sitter::Tree, String) {
        (parse_str(source, None), source.to_string())
    }

    fn function_doc(source: &str, style: DocstringStyle) -> String {
        let (tree, src) = first_def(source);
        let node = tree.root_node().named_child(0).unwrap();
        let facts = function_facts(node, &src, false);
        let name = crate::analysis::outline::outline(&tree, &src, "").symbols[0]
            .name
            .clone();
        render(&function_model(&name, None, &facts), style)
    }

    #[test]
    fn a_function_gets_args_returns_and_raises_from_its_code() {
        let doc = function_doc(
            "def get_user_by_id(user_id: int, strict=False, *args, **kwargs) -> User:\n    if not user_id:\n        raise ValueError('no id')\n    return db[user_id]\n",
            DocstringStyle::Google,
        );
        assert_eq!(
            doc,
            "Get user by id.\n\nArgs:\n    user_id (int): The user id.\n    strict (bool): Whether strict is enabled. Defaults to `False`.\n    *args: Additional positional arguments.\n    **kwargs: Additional keyword arguments.\n\nReturns:\n    User: The user by id.\n\nRaises:\n    ValueError: If a value error occurs."
        );
    }

    #[test]
    fn generators_yield_and_procedures_return_nothing() {
        let doc = function_doc(
            "def iter_lines(path) -> Iterator[str]:\n    for l in open(path):\n        yield l\n",
            DocstringStyle::Numpy,
        );
        assert_eq!(
            doc,
            "Yield lines.\n\nParameters\n----------\npath\n    The path.\n\nYields\n------\nstr\n    The next value."
        );
        let doc = function_doc(
            "def log(msg):\n    print(msg)\n    return\n",
            DocstringStyle::Google,
        );
        assert_eq!(doc, "Log.\n\nArgs:\n    msg: The msg.");
    }

    #[test]
    fn classes_document_the_constructor_and_attributes() {
        let src = "class Cart(Base):\n    currency: str = 'EUR'\n    def __init__(self, owner: str):\n        self.owner = owner\n        self.items = []\n";
        let tree = parse_str(src, None);
        let node = tree.root_node().named_child(0).unwrap();
        let facts = class_facts(node, src);
        let doc = render(
            &class_model("Cart", false, &facts, None),
            DocstringStyle::Google,
        );
        assert!(doc.starts_with("A cart.\n\nArgs:\n    owner (str): The owner.\n\nAttributes:\n    currency (str): The currency.\n"), "{doc}");
        assert!(
            doc.contains("    items (list): The items.") || doc.contains("    items: The items."),
            "{doc}"
        );
    }

    #[test]
    fn modules_list_their_public_definitions() {
        let src = "class Order:\n    \"\"\"An order.\"\"\"\n\ndef place_order():\n    pass\n\ndef _private():\n    pass\n";
        let tree = parse_str(src, None);
        let o = crate::analysis::outline::outline(&tree, src, "shop.orders");
        let doc = render(&module_model(&o, &|_| None), DocstringStyle::Google);
        assert_eq!(
            doc,
            "Orders: `Order` and `place_order`.\n\n- `Order`: An order.\n- `place_order`: Place order."
        );
    }

    #[test]
    fn an_update_keeps_human_text_and_fixes_the_sections() {
        let src = "def f(a, c, *args) -> int:\n    raise KeyError\n";
        let tree = parse_str(src, None);
        let node = tree.root_node().named_child(0).unwrap();
        let facts = function_facts(node, src, false);
        let required = function_model("f", None, &facts);
        let existing = "Frobnicate the thing.\n\nLong story.\n\nArgs:\n    b: Gone now.\n    a: The first, carefully\n        explained.\n\nExamples:\n    >>> f(1, 2)\n    3\n\nReturns:\n    The count.";
        let (model, style) = merge_with_existing(existing, &required, None);
        assert_eq!(style, DocstringStyle::Google);
        assert_eq!(
            render(&model, style),
            "Frobnicate the thing.\n\nLong story.\n\nArgs:\n    a: The first, carefully\n        explained.\n    c: The c.\n    *args: Additional positional arguments.\n\nReturns:\n    int: The count.\n\nRaises:\n    KeyError: If a key error occurs.\n\nExamples:\n    >>> f(1, 2)\n    3"
        );
    }
}
