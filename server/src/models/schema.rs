//! The JSON Schemas every role answers with, and a validator for the part of JSON Schema they
//! use (documented in `docs/schemas.md`).
//!
//! The schemas are written for OpenAI's strict structured output, which is the strictest
//! consumer: every object lists all its properties as required and forbids others, optional
//! values are nullable instead of absent, and alternatives use `anyOf`. The same schemas go to
//! Anthropic as a tool's `input_schema` and into the prompt for endpoints that accept neither.
//!
//! The validator is our own rather than a general JSON Schema crate: it needs only `type`,
//! `enum`, `properties`, `required`, `additionalProperties: false`, `items`, `anyOf`,
//! `minimum`, `maximum` and `minLength`, its messages are written to be fed back to a model in
//! the repair round, and a test checks that the schemas use nothing else. Because models that
//! are not held to the schema by the endpoint often leave nullable properties out, validation
//! first fills those in with `null`, so callers always see every property.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The most validation messages reported for one answer; more would only drown the first ones.
const MAX_ERRORS: usize = 20;
/// Values quoted in messages are cut to this many characters.
const MAX_QUOTED: usize = 60;

/// The structured answers roles give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SchemaName {
    /// `tandem_plan`: the steps of a change.
    Plan,
    /// `tandem_edits`: file operations.
    Edits,
    /// `tandem_review`: findings on a range of lines.
    Review,
    /// `tandem_docstrings`: docstrings by qualified name.
    Docstrings,
    /// `tandem_verdict`: a score and the issues behind it.
    Verdict,
}

impl SchemaName {
    pub const ALL: [SchemaName; 5] = [
        SchemaName::Plan,
        SchemaName::Edits,
        SchemaName::Review,
        SchemaName::Docstrings,
        SchemaName::Verdict,
    ];

    /// The name sent to providers (`response_format.json_schema.name`, the tool's name).
    pub fn name(self) -> &'static str {
        match self {
            SchemaName::Plan => "tandem_plan",
            SchemaName::Edits => "tandem_edits",
            SchemaName::Review => "tandem_review",
            SchemaName::Docstrings => "tandem_docstrings",
            SchemaName::Verdict => "tandem_verdict",
        }
    }

    /// One sentence on what the answer is, sent as the tool's description.
    pub fn description(self) -> &'static str {
        match self {
            SchemaName::Plan => "A plan of a change: a summary and the steps, each on one file",
            SchemaName::Edits => "The file operations that carry out a change",
            SchemaName::Review => "Review findings, each on a range of lines of the file",
            SchemaName::Docstrings => "Docstrings for symbols, by qualified name",
            SchemaName::Verdict => "A quality score from 0 to 1 and the issues that lower it",
        }
    }

    /// The schema itself.
    pub fn schema(self) -> &'static Value {
        static SCHEMAS: OnceLock<[Value; 5]> = OnceLock::new();
        let all = SCHEMAS.get_or_init(|| SchemaName::ALL.map(build_schema));
        &all[self as usize]
    }

    /// Checks `value` against the schema. On success returns the value with absent nullable
    /// properties filled in with `null`; on failure, one message per problem (at most 20),
    /// each starting with the JSON path of the offending value.
    pub fn validate(self, value: &Value) -> Result<Value, Vec<String>> {
        let mut value = value.clone();
        let mut errors = Vec::new();
        check(self.schema(), &mut value, "$", &mut errors);
        if errors.is_empty() {
            Ok(value)
        } else {
            if errors.len() > MAX_ERRORS {
                let more = errors.len() - MAX_ERRORS;
                errors.truncate(MAX_ERRORS);
                errors.push(format!("... and {more} more problems"));
            }
            Err(errors)
        }
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An object whose properties are all required and no others allowed.
fn object(properties: Value) -> Value {
    let required: Vec<Value> = properties
        .as_object()
        .map(|p| p.keys().map(|k| Value::String(k.clone())).collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

fn build_schema(name: SchemaName) -> Value {
    match name {
        SchemaName::Plan => object(json!({
            "summary": string("What the change does and why, in a few sentences"),
            "items": {
                "type": "array",
                "description": "The steps, in an order that respects depends_on",
                "items": object(json!({
                    "id": string("A short unique identifier of the step, e.g. \"s1\""),
                    "title": string("The step in a few words"),
                    "kind": {
                        "type": "string",
                        "enum": ["create", "modify", "test", "docs"],
                        "description": "create a file, modify one, add tests, or write docs",
                    },
                    "file": string("The file the step works on, relative to the workspace root, with / separators"),
                    "symbols": strings("Qualified names of the functions and classes the step touches"),
                    "description": string("What to do in this step, precisely enough to carry out"),
                    "depends_on": strings("The ids of the steps that must come first"),
                })),
            },
        })),
        SchemaName::Edits => {
            let path = string("The file, relative to the workspace root, with / separators");
            let symbol = string("The qualified name of a function, method or class in the file");
            let op = |name: &str| json!({"type": "string", "enum": [name]});
            object(json!({
                "operations": {
                    "type": "array",
                    "description": "The operations, applied in order",
                    "items": {"anyOf": [
                        object(json!({
                            "op": op("create_file"),
                            "path": path,
                            "content": string("The whole content of the new file"),
                        })),
                        object(json!({
                            "op": op("replace_symbol"),
                            "path": path,
                            "symbol": symbol,
                            "content": string("The new source of the symbol, decorators included"),
                        })),
                        object(json!({
                            "op": op("insert_after_symbol"),
                            "path": path,
                            "symbol": symbol,
                            "content": string("The source to insert after the symbol"),
                        })),
                        object(json!({
                            "op": op("replace_text"),
                            "path": path,
                            "search": string("Text that occurs exactly once in the file"),
                            "replace": string("The text to put in its place"),
                        })),
                    ]},
                },
                "notes": {
                    "type": ["string", "null"],
                    "description": "Anything the user should know about the change, or null",
                },
            }))
        }
        SchemaName::Review => object(json!({
            "findings": {
                "type": "array",
                "items": object(json!({
                    "start_line": {"type": "integer", "minimum": 1, "description": "First line, 1-based"},
                    "end_line": {"type": "integer", "minimum": 1, "description": "Last line, 1-based, inclusive"},
                    "severity": {"type": "string", "enum": ["error", "warning", "info", "hint"]},
                    "category": {
                        "type": "string",
                        "enum": ["bug", "security", "performance", "maintainability", "style"],
                    },
                    "message": string("What is wrong and why, in one or two sentences"),
                    "replacement": {
                        "type": ["string", "null"],
                        "description": "Replacement source for the whole line range, or null",
                    },
                })),
            },
        })),
        SchemaName::Docstrings => object(json!({
            "docstrings": {
                "type": "array",
                "items": object(json!({
                    "symbol": string("The qualified name of the function, method, class or module"),
                    "docstring": string("The docstring's text, without quotes or indentation"),
                })),
            },
        })),
        SchemaName::Verdict => object(json!({
            "score": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "1 when there is nothing to fix, 0 when it is unusable",
            },
            "issues": strings("Each problem found, in one sentence"),
        })),
    }
}

/// The JSON type names a schema's `type` allows.
fn allowed_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        _ => false,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for a message: short, on one line.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_QUOTED {
        text
    } else {
        let cut: String = text.chars().take(MAX_QUOTED).collect();
        format!("{cut}...")
    }
}

fn a_or_an(name: &str) -> String {
    match name {
        "integer" | "object" | "array" => format!("an {name}"),
        "null" => "null".to_string(),
        _ => format!("a {name}"),
    }
}

/// Validates `value` against `schema` at `path`, filling in absent nullable properties.
fn check(schema: &Value, value: &mut Value, path: &str, errors: &mut Vec<String>) {
    if let Some(Value::Array(branches)) = schema.get("anyOf") {
        check_any_of(branches, value, path, errors);
        return;
    }
    let types = allowed_types(schema);
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
        let expected: Vec<String> = types.iter().map(|t| a_or_an(t)).collect();
        errors.push(format!(
            "{path}: expected {}, found {}",
            expected.join(" or "),
            kind_of(value)
        ));
        return;
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(value) {
            let names: Vec<String> = options.iter().map(quote).collect();
            errors.push(format!(
                "{path}: {} is not one of {}",
                quote(value),
                names.join(", ")
            ));
            return;
        }
    }
    match value {
        Value::Object(map) => check_object(schema, map, path, errors),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                    if f < min {
                        errors.push(format!("{path}: {n} is less than the minimum {min}"));
                    }
                }
                if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                    if f > max {
                        errors.push(format!("{path}: {n} is more than the maximum {max}"));
                    }
                }
            }
        }
        Value::String(s) => {
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if (s.chars().count() as u64) < min {
                    errors.push(format!(
                        "{path}: the string is shorter than {min} characters"
                    ));
                }
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn check_object(
    schema: &Value,
    map: &mut Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(properties) = properties {
        for (name, property) in properties {
            if !map.contains_key(name) && allowed_types(property).contains(&"null") {
                map.insert(name.clone(), Value::Null);
            }
        }
    }
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                errors.push(format!("{path}: missing required property `{name}`"));
            }
        }
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        for name in map.keys() {
            if !properties.is_some_and(|p| p.contains_key(name)) {
                errors.push(format!("{path}: unexpected property `{name}`"));
            }
        }
    }
    if let Some(properties) = properties {
        for (name, property) in properties {
            if let Some(child) = map.get_mut(name) {
                check(property, child, &child_path(path, name), errors);
            }
        }
    }
}

fn child_path(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{name}")
    } else {
        let mut out = String::from(path);
        let _ = write!(out, "[{}]", Value::String(name.to_string()));
        out
    }
}

/// `anyOf`: the first branch the value satisfies wins (and its normalisation is kept). When
/// none does, the messages come from the branch the value was evidently meant for (the one
/// whose discriminating `enum` property it matches), or else all branches are summarised.
fn check_any_of(branches: &[Value], value: &mut Value, path: &str, errors: &mut Vec<String>) {
    let mut attempts = Vec::with_capacity(branches.len());
    for branch in branches {
        let mut candidate = value.clone();
        let mut branch_errors = Vec::new();
        check(branch, &mut candidate, path, &mut branch_errors);
        if branch_errors.is_empty() {
            *value = candidate;
            return;
        }
        attempts.push(branch_errors);
    }
    let intended = branches
        .iter()
        .position(|branch| discriminator_matches(branch, value));
    match intended {
        Some(i) => errors.append(&mut attempts[i]),
        None => {
            let tags: Vec<String> = branches.iter().filter_map(discriminator).collect();
            if tags.is_empty() {
                errors.push(format!("{path}: matches none of the allowed shapes"));
            } else {
                errors.push(format!(
                    "{path}: matches none of the allowed shapes; `{}` must be one of {}",
                    discriminator_name(branches).unwrap_or("op"),
                    tags.join(", ")
                ));
            }
        }
    }
}

/// The single-value `enum` property of an object branch: its name and the value.
fn discriminator_of(branch: &Value) -> Option<(&str, &Value)> {
    branch
        .get("properties")?
        .as_object()?
        .iter()
        .find_map(|(name, property)| match property.get("enum") {
            Some(Value::Array(values)) if values.len() == 1 => Some((name.as_str(), &values[0])),
            _ => None,
        })
}

fn discriminator(branch: &Value) -> Option<String> {
    discriminator_of(branch).map(|(_, v)| quote(v))
}

fn discriminator_name(branches: &[Value]) -> Option<&str> {
    branches
        .iter()
        .find_map(|b| discriminator_of(b).map(|(name, _)| name))
}

fn discriminator_matches(branch: &Value, value: &Value) -> bool {
    discriminator_of(branch).is_some_and(|(name, expected)| value.get(name) == Some(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_documented_ones() {
        let names: Vec<&str> = SchemaName::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "tandem_plan",
                "tandem_edits",
                "tandem_review",
                "tandem_docstrings",
                "tandem_verdict"
            ]
        );
    }

    /// OpenAI's strict mode: every object requires all its properties and forbids others, and
    /// only keywords the validator understands are used.
    #[test]
    fn schemas_are_strict_and_use_only_supported_keywords() {
        const KEYWORDS: [&str; 11] = [
            "type",
            "enum",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "anyOf",
            "minimum",
            "maximum",
            "minLength",
            "description",
        ];
        fn walk(schema: &Value, at: &str) {
            let map = schema
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object"));
            for key in map.keys() {
                assert!(KEYWORDS.contains(&key.as_str()), "{at}: keyword `{key}`");
            }
            if let Some(props) = map.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = map["required"]
                    .as_array()
                    .expect("required")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
                names.sort_unstable();
                let mut required_sorted = required.clone();
                required_sorted.sort_unstable();
                assert_eq!(names, required_sorted, "{at}: all properties required");
                assert_eq!(map["additionalProperties"], Value::Bool(false), "{at}");
                for (name, p) in props {
                    walk(p, &format!("{at}.{name}"));
                }
            }
            if let Some(items) = map.get("items") {
                walk(items, &format!("{at}[]"));
            }
            if let Some(Value::Array(branches)) = map.get("anyOf") {
                for (i, b) in branches.iter().enumerate() {
                    walk(b, &format!("{at}|{i}"));
                }
            }
        }
        for name in SchemaName::ALL {
            assert_eq!(name.schema()["type"], "object", "{name}: root is an object");
            walk(name.schema(), name.name());
        }
    }

    #[test]
    fn a_valid_plan_passes() {
        let plan = json!({
            "summary": "Add a discount",
            "items": [{
                "id": "s1", "title": "Add function", "kind": "modify", "file": "src/shop/pricing.py",
                "symbols": ["shop.pricing.discount"], "description": "Write it", "depends_on": []
            }]
        });
        assert_eq!(SchemaName::Plan.validate(&plan), Ok(plan.clone()));
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        let plan = json!({
            "summary": 3,
            "items": [{
                "id": "s1", "title": "t", "kind": "refactor", "file": "a.py",
                "symbols": [], "description": "d", "priority": 1
            }]
        });
        let errors = SchemaName::Plan.validate(&plan).unwrap_err();
        assert_eq!(
            errors,
            // Properties are checked in alphabetical order (serde_json's maps are sorted).
            vec![
                "$.items[0]: missing required property `depends_on`",
                "$.items[0]: unexpected property `priority`",
                "$.items[0].kind: \"refactor\" is not one of \"create\", \"modify\", \"test\", \"docs\"",
                "$.summary: expected a string, found an integer",
            ]
        );
    }

    #[test]
    fn absent_nullable_properties_are_filled_in() {
        let edits = json!({"operations": [{"op": "create_file", "path": "a.py", "content": ""}]});
        let out = SchemaName::Edits.validate(&edits).expect("valid");
        assert_eq!(out["notes"], Value::Null);
        let review = json!({"findings": [{
            "start_line": 1, "end_line": 2, "severity": "info", "category": "style", "message": "m"
        }]});
        let out = SchemaName::Review.validate(&review).expect("valid");
        assert_eq!(out["findings"][0]["replacement"], Value::Null);
    }

    #[test]
    fn edits_alternatives_report_the_intended_branch() {
        let edits = json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "x"},
            {"op": "delete_file", "path": "a.py"}
        ], "notes": null});
        let errors = SchemaName::Edits.validate(&edits).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "$.operations[0]: missing required property `replace`",
                "$.operations[1]: matches none of the allowed shapes; `op` must be one of \
                 \"create_file\", \"replace_symbol\", \"insert_after_symbol\", \"replace_text\"",
            ]
        );
    }

    #[test]
    fn numbers_respect_bounds_and_integers() {
        let verdict = json!({"score": 1.5, "issues": []});
        assert_eq!(
            SchemaName::Verdict.validate(&verdict).unwrap_err(),
            vec!["$.score: 1.5 is more than the maximum 1"]
        );
        assert!(SchemaName::Verdict
            .validate(&json!({"score": 0, "issues": ["x"]}))
            .is_ok());
        let review = json!({"findings": [{
            "start_line": 0, "end_line": 2.5, "severity": "info", "category": "style",
            "message": "m", "replacement": null
        }]});
        assert_eq!(
            SchemaName::Review.validate(&review).unwrap_err(),
            vec![
                "$.findings[0].end_line: expected an integer, found a number",
                "$.findings[0].start_line: 0 is less than the minimum 1",
            ]
        );
    }

    #[test]
    fn long_values_are_cut_and_errors_are_capped() {
        let long = "x".repeat(500);
        let items: Vec<Value> = (0..30)
            .map(|_| json!({"symbol": 1, "docstring": 2}))
            .collect();
        let errors = SchemaName::Docstrings
            .validate(&json!({"docstrings": items}))
            .unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert!(
            errors[MAX_ERRORS].starts_with("... and 40 more"),
            "{errors:?}"
        );
        let errors = SchemaName::Plan
            .validate(
                &json!({"summary": "s", "items": [{"id": "a", "title": "t", "kind": long,
                "file": "f", "symbols": [], "description": "d", "depends_on": []}]}),
            )
            .unwrap_err();
        assert!(errors[0].len() < 200, "{}", errors[0]);
    }

    /// docs/schemas.md shows each schema as sent, and examples that must be valid answers.
    #[test]
    fn docs_show_the_schemas_and_valid_examples() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas.md");
        let doc = std::fs::read_to_string(&path).expect("read docs/schemas.md");
        for name in SchemaName::ALL {
            let heading = format!("## `{}`\n", name.name());
            let start = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("no section {heading}"));
            let section = &doc[start + heading.len()..];
            let section = &section[..section.find("\n## ").unwrap_or(section.len())];
            let blocks: Vec<Value> = section
                .split("```json\n")
                .skip(1)
                .map(|rest| {
                    let body = &rest[..rest.find("```").expect("closed block")];
                    serde_json::from_str(body)
                        .unwrap_or_else(|e| panic!("{}: invalid JSON block: {e}", name.name()))
                })
                .collect();
            assert_eq!(
                blocks.len(),
                2,
                "{}: an example and the schema",
                name.name()
            );
            assert_eq!(
                &blocks[1],
                name.schema(),
                "{}: the schema in the docs",
                name.name()
            );
            assert!(
                name.validate(&blocks[0]).is_ok(),
                "{}: the example is not valid: {:?}",
                name.name(),
                name.validate(&blocks[0])
            );
        }
    }

    #[test]
    fn the_root_must_be_an_object() {
        assert_eq!(
            SchemaName::Verdict.validate(&json!([1])).unwrap_err(),
            vec!["$: expected an object, found an array"]
        );
    }
}
