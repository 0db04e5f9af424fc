//! Renders outline facts as Python-looking text, for symbol details and the command line.

use crate::analysis::outline::{Parameter, ParameterKind, Signature};

/// `(self, item: Item, qty: int = 1, /, *, fast=False, **kw) -> None`, with the `/` and `*`
/// markers where the parameter kinds require them.
pub fn render_signature(signature: &Signature) -> String {
    let params = &signature.parameters;
    let mut parts: Vec<String> = Vec::with_capacity(params.len() + 2);
    let has_var_positional = params
        .iter()
        .any(|p| p.kind == ParameterKind::VarPositional);
    let mut star_written = has_var_positional;
    for (i, p) in params.iter().enumerate() {
        if p.kind == ParameterKind::KeywordOnly && !star_written {
            parts.push("*".to_string());
            star_written = true;
        }
        parts.push(render_parameter(p));
        let next_is_positional_only = params
            .get(i + 1)
            .is_some_and(|n| n.kind == ParameterKind::PositionalOnly);
        if p.kind == ParameterKind::PositionalOnly && !next_is_positional_only {
            parts.push("/".to_string());
        }
    }
    let mut out = format!("({})", parts.join(", "));
    if let Some(ret) = &signature.returns {
        out.push_str(" -> ");
        out.push_str(ret);
    }
    out
}

fn render_parameter(p: &Parameter) -> String {
    let prefix = match p.kind {
        ParameterKind::VarPositional => "*",
        ParameterKind::VarKeyword => "**",
        _ => "",
    };
    let mut out = format!("{prefix}{}", p.name);
    if let Some(annotation) = &p.annotation {
        out.push_str(": ");
        out.push_str(annotation);
    }
    if let Some(default) = &p.default {
        // PEP 8 spacing: `x=1` without an annotation, `x: int = 1` with one.
        out.push_str(if p.annotation.is_some() { " = " } else { "=" });
        out.push_str(default);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(
        name: &str,
        kind: ParameterKind,
        annotation: Option<&str>,
        default: Option<&str>,
    ) -> Parameter {
        Parameter {
            name: name.into(),
            kind,
            annotation: annotation.map(Into::into),
            default: default.map(Into::into),
            range: 0..0,
        }
    }

    #[test]
    fn markers_appear_where_kinds_change() {
        use ParameterKind::*;
        let sig = Signature {
            parameters: vec![
                param("a", PositionalOnly, None, None),
                param("b", Normal, Some("int"), Some("1")),
                param("c", KeywordOnly, None, Some("None")),
                param("kw", VarKeyword, Some("str"), None),
            ],
            returns: Some("bool".into()),
        };
        assert_eq!(
            render_signature(&sig),
            "(a, /, b: int = 1, *, c=None, **kw: str) -> bool"
        );
    }

    #[test]
    fn var_positional_replaces_the_bare_star() {
        use ParameterKind::*;
        let sig = Signature {
            parameters: vec![
                param("args", VarPositional, None, None),
                param("k", KeywordOnly, None, None),
            ],
            returns: None,
        };
        assert_eq!(render_signature(&sig), "(*args, k)");
    }
}
