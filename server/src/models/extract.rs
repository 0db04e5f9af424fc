//! Finding the JSON in a model's answer, which may come with prose around it, inside code
//! fences, or after a reasoning model's `<think>` block, and checking it against the schema.

use serde_json::Value;

use super::schema::SchemaName;

/// How many candidate objects are tried at most; a hostile answer with thousands of braces
/// costs no more than this many parses.
const MAX_CANDIDATES: usize = 16;

/// The answer's JSON, validated against `schema` (with absent nullable properties filled in),
/// or the messages that explain why there is none: the validation errors of the most likely
/// candidate, or why no JSON object was found.
pub fn parse_answer(text: &str, schema: SchemaName) -> Result<Value, Vec<String>> {
    let candidates = json_candidates(text);
    let Some(first) = candidates.first() else {
        return Err(vec![no_json_message(text)]);
    };
    for candidate in &candidates {
        if let Ok(value) = schema.validate(candidate) {
            return Ok(value);
        }
    }
    // The first candidate is the most likely one (the whole answer, a fenced block, or the
    // first object in the prose), so its problems are the ones worth reporting.
    schema.validate(first)
}

fn no_json_message(text: &str) -> String {
    let trimmed = strip_thinking(text).trim();
    if trimmed.is_empty() {
        return "the answer is empty; expected one JSON object".to_string();
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(other) => format!(
            "the answer is JSON but not an object (found {}); expected one JSON object",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                Value::Null => "null",
                Value::Object(_) => "an object",
            }
        ),
        Err(e) => format!("the answer holds no complete JSON object ({e})"),
    }
}

/// The JSON objects in `text`, most likely first: the whole text, then fenced code blocks,
/// then balanced `{...}` spans in the prose. Duplicates are dropped.
pub fn json_candidates(text: &str) -> Vec<Value> {
    let text = strip_thinking(text);
    let mut out: Vec<Value> = Vec::new();
    let mut push = |value: Value| {
        if value.is_object() && !out.contains(&value) && out.len() < MAX_CANDIDATES {
            out.push(value);
        }
    };
    if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
        push(value);
    }
    for block in fenced_blocks(text) {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim()) {
            push(value);
        }
    }
    for span in balanced_objects(text).into_iter().take(MAX_CANDIDATES) {
        if let Ok(value) = serde_json::from_str::<Value>(span) {
            push(value);
        }
    }
    out
}

/// `text` without `<think>...</think>` blocks, which reasoning models put before the answer
/// and which may hold drafts with braces. An unclosed block hides everything after it.
fn strip_thinking(text: &str) -> &str {
    let trimmed = text.trim_start();
    for (open, close) in [("<think>", "</think>"), ("<thinking>", "</thinking>")] {
        if let Some(rest) = trimmed.strip_prefix(open) {
            return match rest.find(close) {
                Some(end) => &rest[end + close.len()..],
                None => "",
            };
        }
    }
    text
}

/// The contents of Markdown code fences (``` or ~~~, with or without a language).
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some((at, fence)) = ["```", "~~~"]
        .iter()
        .filter_map(|f| rest.find(f).map(|i| (i, *f)))
        .min()
    {
        let after_fence = &rest[at + fence.len()..];
        // The info string (`json`) runs to the end of the line.
        let body_start = after_fence.find('\n').map_or(after_fence.len(), |i| i + 1);
        let body = &after_fence[body_start..];
        match body.find(fence) {
            Some(end) => {
                blocks.push(&body[..end]);
                rest = &body[end + fence.len()..];
            }
            None => {
                // An unclosed fence (the answer was cut, or the model forgot): take the rest.
                blocks.push(body);
                break;
            }
        }
    }
    blocks
}

/// The outermost balanced `{...}` spans, in order. Quotes are only tracked inside braces, so
/// an apostrophe or a stray quote in the prose cannot hide the JSON that follows. Objects
/// inside a brace that is never closed still count (one pass, no recursion, so a hostile
/// answer of nothing but `{` costs linear time).
fn balanced_objects(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' if !stack.is_empty() => in_string = true,
            b'{' => stack.push(i),
            b'}' => {
                if let Some(start) = stack.pop() {
                    pairs.push((start, i));
                }
            }
            _ => {}
        }
    }
    // Pairs close inner-first; ordered by start, an outermost span is one that does not lie
    // inside the last span kept.
    pairs.sort_unstable();
    let mut spans = Vec::new();
    let mut covered_to: Option<usize> = None;
    for (start, end) in pairs {
        if covered_to.is_some_and(|to| start < to) {
            continue;
        }
        spans.push(&text[start..=end]);
        covered_to = Some(end);
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict(text: &str) -> Result<Value, Vec<String>> {
        parse_answer(text, SchemaName::Verdict)
    }

    #[test]
    fn plain_json() {
        assert_eq!(
            verdict(r#"{"score": 1, "issues": []}"#),
            Ok(json!({"score": 1, "issues": []}))
        );
    }

    #[test]
    fn fenced_json_with_prose() {
        let text =
            "Here you go:\n```json\n{\"score\": 0.5, \"issues\": [\"a\"]}\n```\nHope it helps!";
        assert_eq!(verdict(text), Ok(json!({"score": 0.5, "issues": ["a"]})));
        let text = "~~~\n{\"score\": 0.5, \"issues\": []}\n~~~";
        assert!(verdict(text).is_ok());
    }

    #[test]
    fn trailing_and_leading_prose() {
        let text =
            "Sure! It's \"fine\": {\"score\": 0.9, \"issues\": [\"uses {braces}\"]} -- that's all.";
        assert_eq!(
            verdict(text),
            Ok(json!({"score": 0.9, "issues": ["uses {braces}"]}))
        );
    }

    #[test]
    fn thinking_blocks_are_skipped() {
        let text = "<think>maybe {\"score\": 0} no</think>\n{\"score\": 1, \"issues\": []}";
        assert_eq!(verdict(text), Ok(json!({"score": 1, "issues": []})));
        assert!(verdict("<think>{\"score\": 1, \"issues\": []}").is_err());
    }

    #[test]
    fn the_first_valid_candidate_wins() {
        let text = "Example: {\"a\": 1}. Answer: {\"score\": 0.2, \"issues\": []}";
        assert_eq!(verdict(text), Ok(json!({"score": 0.2, "issues": []})));
    }

    #[test]
    fn invalid_json_is_explained() {
        let errors = verdict("{\"score\": 1, \"issues\": [").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("the answer holds no complete JSON object"),
            "{errors:?}"
        );
        assert_eq!(
            verdict("  "),
            Err(vec![
                "the answer is empty; expected one JSON object".to_string()
            ])
        );
        assert!(verdict("[1, 2]").unwrap_err()[0].contains("not an object"));
    }

    #[test]
    fn schema_errors_of_the_likeliest_candidate_are_reported() {
        let errors = verdict("```json\n{\"score\": 2, \"issues\": []}\n```").unwrap_err();
        assert_eq!(errors, vec!["$.score: 2 is more than the maximum 1"]);
    }

    #[test]
    fn objects_inside_an_unclosed_one_are_found() {
        let text = "{ \"broken\": {\"score\": 1, \"issues\": []}";
        assert_eq!(verdict(text), Ok(json!({"score": 1, "issues": []})));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let text = "{".repeat(200_000);
        let start = std::time::Instant::now();
        assert!(verdict(&text).is_err());
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let many = "{\"x\": 1} ".repeat(10_000);
        assert!(json_candidates(&many).len() <= MAX_CANDIDATES);
    }
}
