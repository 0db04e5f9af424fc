//! `textDocument/codeAction`: what each feature offers at a place. Actions carry commands, not
//! edits, so the menu opens at once; the work happens when the user picks one.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::server::TandemServer;

pub(super) fn code_action(
    server: &TandemServer,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let mut actions = super::docs::code_actions(&server.state, &params)?;
    actions.extend(rule_fixes(&server.state, &params));
    actions.extend(super::review::code_actions(&server.state, &params)?);
    actions.extend(super::execute::code_actions(&server.state, &params));
    Ok(Some(actions))
}

/// Quick fixes for the built-in rules' diagnostics in the request: the mechanical fix the rule
/// computes, recomputed on the current text (so the edit carries this version), and for a
/// missing docstring (TDM012) the "Generate docstring" command.
fn rule_fixes(
    state: &super::server::ServerState,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let wanted = params
        .context
        .only
        .as_ref()
        .is_none_or(|only| only.iter().any(|k| k.as_str() == "quickfix"));
    let key = super::convert::document_key(&params.text_document.uri);
    let Some(snapshot) = state.documents.snapshot(&key) else {
        return Vec::new();
    };
    let diagnostics: Vec<&Diagnostic> = params
        .context
        .diagnostics
        .iter()
        .filter(|d| {
            d.source.as_deref() == Some("tandem")
                && matches!(&d.code, Some(NumberOrString::String(c)) if c.starts_with("TDM"))
        })
        .collect();
    if !wanted || diagnostics.is_empty() {
        return Vec::new();
    }
    let text = snapshot.text();
    let lines = crate::session::position::LineIndex::new(&text);
    let encoding = state.encoding();
    // Only the rules' own findings carry fixes; they need no index, so this handler does not
    // wait for the index lock (a re-solve may hold it).
    let findings = super::diagnostics::rule_findings(state, &key, &text, &snapshot.tree);
    let mut out = Vec::new();
    for d in diagnostics {
        let Some(NumberOrString::String(code)) = &d.code else {
            continue;
        };
        let start = lines.offset_of(super::convert::text_position(d.range.start), encoding);
        let Some(finding) = findings
            .iter()
            .find(|f| &f.code == code && f.range.start == start)
        else {
            continue;
        };
        if code == "TDM012" {
            let command = Command {
                title: "Generate docstring".to_string(),
                command: super::docs::DOCUMENT_COMMAND.to_string(),
                arguments: Some(vec![serde_json::json!({
                    "uri": params.text_document.uri.as_str(),
                    "range": d.range,
                })]),
            };
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "Generate docstring".to_string(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                command: Some(command),
                ..CodeAction::default()
            }));
            continue;
        }
        let Some(fix) = &finding.fix else {
            continue;
        };
        let edit = super::convert::versioned_edit(
            &params.text_document.uri,
            snapshot.version,
            fix.edits.iter().cloned(),
            &lines,
            encoding,
        );
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![d.clone()]),
            edit: Some(edit),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    out
}
