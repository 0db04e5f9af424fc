//! Writing a docstring's text in the google, numpy or sphinx style from a `DocModel`.
//!
//! The output is the docstring's content only: no quotes, no indentation, lines separated by
//! `\n`. `placement` turns it into a literal at the right place.

use serde::{Deserialize, Serialize};

pub use crate::context::profile::DocstringStyle;

/// One documented name: a parameter (`*args`/`**kwargs` keep their stars) or an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocEntry {
    pub name: String,
    pub type_: Option<String>,
    pub description: String,
    /// The default value's source text, written as "Defaults to `x`." (google, sphinx) or
    /// `default x` (numpy).
    pub default: Option<String>,
}

/// A Returns or Yields section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocValue {
    pub type_: Option<String>,
    pub description: String,
}

/// A Raises entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRaise {
    pub name: String,
    pub description: String,
}

/// Everything a docstring says, independent of its style.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocModel {
    pub summary: String,
    /// Further paragraphs, lines separated by `\n`.
    pub description: String,
    pub params: Vec<DocEntry>,
    pub returns: Option<DocValue>,
    pub yields: Option<DocValue>,
    pub raises: Vec<DocRaise>,
    pub attributes: Vec<DocEntry>,
    /// Sections this model does not interpret (Examples, Notes, …), kept as written: the
    /// section's text including its header, placed after the others.
    pub other_sections: Vec<String>,
}

/// The docstring text for `model` in `style`.
pub fn render(model: &DocModel, style: DocstringStyle) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let summary = model.summary.trim();
    blocks.push(if summary.is_empty() {
        "TODO: summary.".to_string()
    } else {
        summary.to_string()
    });
    if !model.description.trim().is_empty() {
        blocks.push(model.description.trim().to_string());
    }
    match style {
        DocstringStyle::Google => google(model, &mut blocks),
        DocstringStyle::Numpy => numpy(model, &mut blocks),
        DocstringStyle::Sphinx => sphinx(model, &mut blocks),
    }
    for other in &model.other_sections {
        if !other.trim().is_empty() {
            blocks.push(other.trim_end().to_string());
        }
    }
    blocks.join("\n\n")
}

fn with_default(description: &str, default: Option<&str>) -> String {
    let description = description.trim();
    match default {
        Some(d) => {
            let sep = if description.is_empty() { "" } else { " " };
            format!("{description}{sep}Defaults to `{d}`.")
        }
        None => description.to_string(),
    }
}

/// `text` with every line after the first indented by `indent`.
fn hanging(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(indent);
            }
        }
        out.push_str(line.trim_end());
    }
    out
}

fn google(model: &DocModel, blocks: &mut Vec<String>) {
    let entries = |title: &str, entries: &[DocEntry], blocks: &mut Vec<String>| {
        if entries.is_empty() {
            return;
        }
        let mut s = format!("{title}:");
        for e in entries {
            let ty = e
                .type_
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let text = with_default(&e.description, e.default.as_deref());
            s.push_str(&format!(
                "\n    {}{ty}: {}",
                e.name,
                hanging(&text, "        ")
            ));
        }
        blocks.push(s);
    };
    entries("Args", &model.params, blocks);
    let value = |title: &str, v: &Option<DocValue>, blocks: &mut Vec<String>| {
        if let Some(v) = v {
            let text = hanging(v.description.trim(), "    ");
            let line = match v.type_.as_deref() {
                Some(t) => format!("{t}: {text}"),
                None => text,
            };
            blocks.push(format!("{title}:\n    {line}"));
        }
    };
    value("Returns", &model.returns, blocks);
    value("Yields", &model.yields, blocks);
    if !model.raises.is_empty() {
        let mut s = "Raises:".to_string();
        for r in &model.raises {
            s.push_str(&format!(
                "\n    {}: {}",
                r.name,
                hanging(r.description.trim(), "        ")
            ));
        }
        blocks.push(s);
    }
    entries("Attributes", &model.attributes, blocks);
}

fn numpy(model: &DocModel, blocks: &mut Vec<String>) {
    let header = |title: &str| format!("{title}\n{}", "-".repeat(title.len()));
    let entries = |title: &str, entries: &[DocEntry], blocks: &mut Vec<String>| {
        if entries.is_empty() {
            return;
        }
        let mut s = header(title);
        for e in entries {
            let mut line = e.name.clone();
            match (e.type_.as_deref(), e.default.as_deref()) {
                (Some(t), Some(d)) => line.push_str(&format!(" : {t}, default {d}")),
                (Some(t), None) => line.push_str(&format!(" : {t}")),
                (None, Some(d)) => line.push_str(&format!(" : default {d}")),
                (None, None) => {}
            }
            s.push('\n');
            s.push_str(&line);
            if !e.description.trim().is_empty() {
                s.push_str("\n    ");
                s.push_str(&hanging(e.description.trim(), "    "));
            }
        }
        blocks.push(s);
    };
    entries("Parameters", &model.params, blocks);
    let value = |title: &str, v: &Option<DocValue>, blocks: &mut Vec<String>| {
        if let Some(v) = v {
            let mut s = header(title);
            s.push('\n');
            s.push_str(v.type_.as_deref().unwrap_or("object"));
            if !v.description.trim().is_empty() {
                s.push_str("\n    ");
                s.push_str(&hanging(v.description.trim(), "    "));
            }
            blocks.push(s);
        }
    };
    value("Returns", &model.returns, blocks);
    value("Yields", &model.yields, blocks);
    if !model.raises.is_empty() {
        let mut s = header("Raises");
        for r in &model.raises {
            s.push('\n');
            s.push_str(&r.name);
            if !r.description.trim().is_empty() {
                s.push_str("\n    ");
                s.push_str(&hanging(r.description.trim(), "    "));
            }
        }
        blocks.push(s);
    }
    entries("Attributes", &model.attributes, blocks);
}

fn sphinx(model: &DocModel, blocks: &mut Vec<String>) {
    let mut fields: Vec<String> = Vec::new();
    for e in &model.params {
        let text = with_default(&e.description, e.default.as_deref());
        fields.push(format!(":param {}: {}", e.name, hanging(&text, "    ")));
        if let Some(t) = &e.type_ {
            fields.push(format!(":type {}: {t}", e.name));
        }
    }
    if let Some(v) = &model.returns {
        fields.push(format!(
            ":return: {}",
            hanging(v.description.trim(), "    ")
        ));
        if let Some(t) = &v.type_ {
            fields.push(format!(":rtype: {t}"));
        }
    }
    if let Some(v) = &model.yields {
        fields.push(format!(":yield: {}", hanging(v.description.trim(), "    ")));
        if let Some(t) = &v.type_ {
            fields.push(format!(":ytype: {t}"));
        }
    }
    for r in &model.raises {
        fields.push(format!(
            ":raises {}: {}",
            r.name,
            hanging(r.description.trim(), "    ")
        ));
    }
    for e in &model.attributes {
        fields.push(format!(
            ":ivar {}: {}",
            e.name,
            hanging(e.description.trim(), "    ")
        ));
        if let Some(t) = &e.type_ {
            fields.push(format!(":vartype {}: {t}", e.name));
        }
    }
    if !fields.is_empty() {
        blocks.push(fields.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> DocModel {
        DocModel {
            summary: "Get user by id.".into(),
            description: String::new(),
            params: vec![
                DocEntry {
                    name: "user_id".into(),
                    type_: Some("int".into()),
                    description: "The user id.".into(),
                    default: None,
                },
                DocEntry {
                    name: "strict".into(),
                    type_: Some("bool".into()),
                    description: "Whether to be strict.".into(),
                    default: Some("False".into()),
                },
                DocEntry {
                    name: "**kwargs".into(),
                    type_: None,
                    description: "Additional keyword arguments.".into(),
                    default: None,
                },
            ],
            returns: Some(DocValue {
                type_: Some("User".into()),
                description: "The user.".into(),
            }),
            yields: None,
            raises: vec![DocRaise {
                name: "KeyError".into(),
                description: "If a key error occurs.".into(),
            }],
            attributes: vec![],
            other_sections: vec![],
        }
    }

    #[test]
    fn google_style() {
        assert_eq!(
            render(&model(), DocstringStyle::Google),
            "Get user by id.\n\nArgs:\n    user_id (int): The user id.\n    strict (bool): Whether to be strict. Defaults to `False`.\n    **kwargs: Additional keyword arguments.\n\nReturns:\n    User: The user.\n\nRaises:\n    KeyError: If a key error occurs."
        );
    }

    #[test]
    fn numpy_style() {
        assert_eq!(
            render(&model(), DocstringStyle::Numpy),
            "Get user by id.\n\nParameters\n----------\nuser_id : int\n    The user id.\nstrict : bool, default False\n    Whether to be strict.\n**kwargs\n    Additional keyword arguments.\n\nReturns\n-------\nUser\n    The user.\n\nRaises\n------\nKeyError\n    If a key error occurs."
        );
    }

    #[test]
    fn sphinx_style() {
        assert_eq!(
            render(&model(), DocstringStyle::Sphinx),
            "Get user by id.\n\n:param user_id: The user id.\n:type user_id: int\n:param strict: Whether to be strict. Defaults to `False`.\n:type strict: bool\n:param **kwargs: Additional keyword arguments.\n:return: The user.\n:rtype: User\n:raises KeyError: If a key error occurs."
        );
    }

    #[test]
    fn a_bare_summary_is_one_line_and_other_sections_are_kept() {
        let m = DocModel {
            summary: "Run.".into(),
            other_sections: vec!["Examples:\n    >>> run()".into()],
            ..Default::default()
        };
        assert_eq!(
            render(&m, DocstringStyle::Google),
            "Run.\n\nExamples:\n    >>> run()"
        );
        assert_eq!(
            render(&DocModel::default(), DocstringStyle::Numpy),
            "TODO: summary."
        );
    }

    #[test]
    fn multi_line_descriptions_hang_under_their_entry() {
        let mut m = model();
        m.params[0].description = "First line.\nSecond line.".into();
        let text = render(&m, DocstringStyle::Google);
        assert!(text.contains("    user_id (int): First line.\n        Second line.\n"));
        let text = render(&m, DocstringStyle::Numpy);
        assert!(text.contains("user_id : int\n    First line.\n    Second line.\n"));
    }
}
