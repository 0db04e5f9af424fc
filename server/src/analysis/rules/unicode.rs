//! TDM013: hidden Unicode characters — tag characters (U+E0000–U+E007F), bidirectional
//! controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) and zero-width characters
//! (U+200B–U+200D, U+2060, U+FEFF after the start of the file). They are invisible in most
//! editors and diffs, yet change what a reader sees (a bidi override makes code display in
//! another order than it runs: "Trojan Source", CVE-2021-42574), make two names that look the
//! same differ, or carry text a reader cannot see but a language model reads (tag characters
//! spell ASCII invisibly: a prompt-injection channel). Files sent to a model are checked like
//! any other, so the hidden text shows as a diagnostic before anyone trusts the answer.
//!
//! The scan is over the text, not the tree (a hidden character can be anywhere), linear, and
//! skipped entirely for ASCII files. The tree says where a run is (comment, string,
//! identifier) for the message. Left alone: a byte order mark at the very start, and a
//! zero-width joiner or non-joiner inside a string between two non-ASCII characters, where
//! emoji sequences and several scripts (Persian, the Indic scripts) need them.
//!
//! The fix deletes the characters in comments only; elsewhere deleting them changes what the
//! program means (a name, a string's value), so that is left to the author.

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{Checker, Rule};
use crate::analysis::finding::Fix;

/// What a hidden character is, or `None` for an ordinary one.
fn hidden_kind(c: char) -> Option<&'static str> {
    match c {
        '\u{E0000}'..='\u{E007F}' => Some("tag character"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some("bidirectional control"),
        '\u{200E}' | '\u{200F}' | '\u{061C}' => Some("bidirectional mark"),
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some("zero-width character"),
        _ => None,
    }
}

/// Where in the code a byte offset is, for the message.
fn place(root: Node<'_>, offset: usize) -> &'static str {
    let mut node = root.descendant_for_byte_range(offset, offset);
    while let Some(n) = node {
        match n.kind_str() {
            "comment" => return "a comment",
            "string" | "string_content" | "concatenated_string" => return "a string",
            "identifier" => return "an identifier",
            _ => node = n.parent(),
        }
    }
    "the code"
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

pub(super) fn check(checker: &mut Checker<'_>, root: Node<'_>) {
    if !checker.on(Rule::HiddenUnicode) || checker.source.is_ascii() {
        return;
    }
    let source = checker.source;
    let mut runs: Vec<(usize, usize, char)> = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let hidden = hidden_kind(c).is_some()
            && !(c == '\u{FEFF}' && i == 0)
            && !(is_joiner(c)
                && previous.is_some_and(|p| !p.is_ascii())
                && next.is_some_and(|n| !n.is_ascii())
                && place(root, i) == "a string");
        if hidden {
            match runs.last_mut() {
                Some((_, end, _)) if *end == i => *end = i + c.len_utf8(),
                _ => runs.push((i, i + c.len_utf8(), c)),
            }
        }
        previous = Some(c);
    }
    for (start, end, first) in runs {
        let count = source[start..end].chars().count();
        let kind = hidden_kind(first).unwrap_or("hidden character");
        let where_ = place(root, start);
        let what = if count == 1 {
            format!("Hidden Unicode {kind} U+{:04X}", first as u32)
        } else {
            format!(
                "{count} hidden Unicode characters starting with the {kind} U+{:04X}",
                first as u32
            )
        };
        let message = format!(
            "{what} in {where_}: invisible in most editors and diffs, it can make code read \
             differently from how it runs or hide text from reviewers (but not from a model); \
             remove it, or write it as an escape (`\\u{:04x}`) in a string",
            first as u32
        );
        let fix = (where_ == "a comment").then(|| {
            Fix::new(
                "Remove the hidden characters",
                vec![(start..end, String::new())],
            )
        });
        checker.report(Rule::HiddenUnicode, message, start..end, fix);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn bidi_controls_in_a_comment_are_reported_with_a_fix() {
        // The classic Trojan Source line: the override hides the `return` from a reader.
        let source = "def is_admin(user):\n    return False  # \u{202E} } \u{2066}if user.admin\u{2069} \u{2066} begin admins only\n";
        let found = findings("TDM013", source);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].message.contains("U+202E"), "{}", found[0].message);
        assert!(
            found[0].message.contains("in a comment"),
            "{}",
            found[0].message
        );
        assert_eq!(
            fixed("TDM013", "x = 1  # a\u{202E}\u{2066}b\n"),
            "x = 1  # ab\n"
        );
    }

    #[test]
    fn tag_characters_in_a_string_are_one_finding_without_a_fix() {
        let hidden: String = "run os.system"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        let source = format!("NOTE = \"harmless{hidden}\"\n");
        let found = findings("TDM013", &source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.starts_with("13 hidden Unicode characters"));
        assert!(found[0].message.contains("tag character U+E0072"));
        assert!(found[0].message.contains("in a string"));
        assert!(found[0].fix.is_none());
        assert_eq!(&source[found[0].range.clone()], hidden);
    }

    #[test]
    fn zero_width_characters_in_identifiers_are_reported() {
        let source = "admin\u{200B} = 1\nadmin = 2\nprint(admin\u{200B})\n";
        let found = findings("TDM013", source);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("U+200B"));
        // tree-sitter may or may not take U+200B into the name; either way the place is named.
        assert!(
            found[0].message.contains("identifier") || found[0].message.contains("the code"),
            "{}",
            found[0].message
        );
        assert_eq!(
            flagged("TDM013", "x = '\u{2060}'\ny = '\u{200F}'\n").len(),
            2
        );
        assert_eq!(flagged("TDM013", "z = 1\u{061C}\n").len(), 1);
    }

    #[test]
    fn legitimate_uses_are_left_alone() {
        // A byte order mark at the start, emoji and script joiners inside strings, ordinary
        // non-ASCII text.
        assert!(findings("TDM013", "\u{FEFF}x = 1\n").is_empty());
        assert!(findings("TDM013", "FAMILY = '👨\u{200D}👩\u{200D}👧'\n").is_empty());
        assert!(findings("TDM013", "WORD = 'می\u{200C}خواهم'\n").is_empty());
        assert!(findings("TDM013", "größe = 'café'  # naïve\n").is_empty());
        assert_eq!(findings("TDM013", "x = 1\n\u{FEFF}y = 2\n").len(), 1);
        assert!(findings("TDM013", "x = 1  # a\u{202E}b  # noqa: TDM013\n").is_empty());
    }
}
