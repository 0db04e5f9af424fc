//! Keeping secrets out of prompts and messages.
//!
//! Two layers. Files that hold secrets by their nature (`.env*`, `*.pem`, `*.key`, `id_rsa*`
//! and the like) or that the project ignores (`.gitignore`, `.tandemignore`) are never put in a
//! prompt: [`is_secret_file`] and [`PromptFilter`] decide, and the router applies the filter to
//! every file a request carries. Then every outgoing text goes through [`Redactor`], which
//! replaces strings that look like secrets (API keys by their well-known prefixes, PEM private
//! keys, `password = "..."`-style assignments of literal values, passwords in URLs, and the
//! configured API keys themselves) with `[REDACTED]`.
//!
//! The patterns are matched by hand rather than with regular expressions: they are few, each
//! is a prefix or a key word followed by a run of characters, and this keeps the scan linear
//! on hostile input.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Whether `path` names a file that holds secrets by its nature, whatever its content: `.env`
/// files (`.env`, `.env.local`, `.envrc`), keys and certificates (`*.pem`, `*.key`, `*.p12`,
/// `*.pfx`, `*.jks`, `*.keystore`, `*.ppk`), SSH keys (`id_rsa*`, `id_dsa*`, `id_ecdsa*`,
/// `id_ed25519*`), credential files (`.netrc`, `.pgpass`, `.pypirc`, `.git-credentials`), and
/// anything inside `.ssh`, `.aws` or `.gnupg`. Case is ignored.
pub fn is_secret_file(path: &Path) -> bool {
    let in_secret_dir = path.components().any(|c| match c {
        Component::Normal(name) => {
            let name = name.to_string_lossy().to_ascii_lowercase();
            matches!(name.as_str(), ".ssh" | ".aws" | ".gnupg")
        }
        _ => false,
    });
    if in_secret_dir {
        return true;
    }
    let Some(name) = path.file_name() else {
        return false;
    };
    let name = name.to_string_lossy().to_ascii_lowercase();
    const PREFIXES: [&str; 5] = [".env", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];
    const SUFFIXES: [&str; 7] = [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk"];
    const NAMES: [&str; 4] = [".netrc", ".pgpass", ".pypirc", ".git-credentials"];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || NAMES.contains(&name.as_str())
}

/// Decides which files may go into a prompt: not secret files, not files the project ignores
/// (`.gitignore` and `.tandemignore` at every level, `.git/info/exclude`), nothing outside the
/// workspace. Ignore files are read when first needed and kept for the filter's lifetime, so
/// make a new filter for each request.
#[derive(Debug)]
pub struct PromptFilter {
    root: Option<PathBuf>,
    /// The ignore matchers of each directory, most important last.
    matchers: HashMap<PathBuf, Vec<(Gitignore, String)>>,
}

impl PromptFilter {
    /// A filter for the workspace at `root`. Without a root only secret files are excluded.
    pub fn new(root: Option<&Path>) -> Self {
        PromptFilter {
            root: root.map(normalize),
            matchers: HashMap::new(),
        }
    }

    /// Why `path` must stay out of prompts, or `None` when it may go in. Relative paths are
    /// taken from the workspace root.
    pub fn exclusion(&mut self, path: &Path) -> Option<String> {
        let absolute = match (&self.root, path.is_absolute()) {
            (Some(root), false) => normalize(&root.join(path)),
            _ => normalize(path),
        };
        if is_secret_file(&absolute) {
            return Some("it is a file that holds secrets".to_string());
        }
        let root = self.root.clone()?;
        let Ok(relative) = absolute.strip_prefix(&root) else {
            return Some("it is outside the workspace".to_string());
        };
        let is_dir = absolute.is_dir();
        // Deeper ignore files override shallower ones, as in git: look from the file's own
        // directory up to the root and let the first match decide.
        let mut dirs: Vec<PathBuf> = relative.ancestors().skip(1).map(|a| root.join(a)).collect();
        if dirs.is_empty() {
            dirs.push(root.clone());
        }
        for dir in dirs {
            let Ok(below) = absolute.strip_prefix(&dir) else {
                continue;
            };
            let below = below.to_path_buf();
            for (matcher, source) in self.matchers_of(&dir).iter().rev() {
                match matcher.matched_path_or_any_parents(&below, is_dir) {
                    Match::Ignore(_) => return Some(format!("it is ignored by {source}")),
                    Match::Whitelist(_) => return None,
                    Match::None => {}
                }
            }
        }
        None
    }

    fn matchers_of(&mut self, dir: &Path) -> &[(Gitignore, String)] {
        let root = self.root.clone();
        self.matchers.entry(dir.to_path_buf()).or_insert_with(|| {
            let display = |name: &str| -> String {
                let rel = root
                    .as_deref()
                    .and_then(|r| dir.strip_prefix(r).ok())
                    .filter(|r| !r.as_os_str().is_empty());
                match rel {
                    Some(rel) => format!("{}/{name}", rel.display()),
                    None => name.to_string(),
                }
            };
            let mut files = Vec::new();
            if root.as_deref() == Some(dir) {
                files.push((
                    dir.join(".git/info/exclude"),
                    ".git/info/exclude".to_string(),
                ));
            }
            files.push((dir.join(".gitignore"), display(".gitignore")));
            files.push((dir.join(".tandemignore"), display(".tandemignore")));
            files
                .into_iter()
                .filter(|(path, _)| path.is_file())
                .filter_map(|(path, source)| {
                    let mut builder = GitignoreBuilder::new(dir);
                    if let Some(e) = builder.add(&path) {
                        tracing::warn!("{source}: {e}");
                    }
                    builder.build().ok().map(|m| (m, source))
                })
                .collect()
        })
    }
}

/// `path` with `.` and `..` resolved lexically, so that `src/../.env` is seen as `.env` and
/// `../x` as outside the workspace.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Replaces secret-looking strings in text sent to a model or shown to the user.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Exact secrets to remove wherever they appear (the configured API keys).
    literals: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Also removes `secret` wherever it appears. Values shorter than 8 characters are
    /// ignored: they would match ordinary words.
    pub fn with_literal(mut self, secret: &str) -> Self {
        if secret.len() >= 8 && !self.literals.iter().any(|l| l == secret) {
            self.literals.push(secret.to_string());
        }
        self
    }

    /// `text` with every secret-looking string replaced by `[REDACTED]`, and how many were.
    pub fn redact<'a>(&self, text: &'a str) -> (Cow<'a, str>, usize) {
        let mut ranges = Vec::new();
        for literal in &self.literals {
            ranges.extend(
                text.match_indices(literal.as_str())
                    .map(|(i, m)| i..i + m.len()),
            );
        }
        find_prefixed_tokens(text, &mut ranges);
        find_private_keys(text, &mut ranges);
        find_assignments(text, &mut ranges);
        find_url_passwords(text, &mut ranges);
        if ranges.is_empty() {
            return (Cow::Borrowed(text), 0);
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut count = 0;
        for range in ranges {
            if range.end <= at {
                continue;
            }
            let start = range.start.max(at);
            out.push_str(&text[at..start]);
            // Overlapping ranges join the replacement before them.
            if start == range.start {
                out.push_str(REDACTED);
                count += 1;
            }
            at = range.end;
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), count)
    }

    /// An error message from a server or a library, fit to show: secrets redacted, the query
    /// of any URL removed (it may carry a key), on one line and at most 400 characters.
    pub fn scrub_message(&self, message: &str) -> String {
        let (redacted, _) = self.redact(message);
        let without_queries = strip_url_queries(&redacted);
        let one_line: String = without_queries
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let cut: String = one_line.chars().take(400).collect();
        if cut.len() < one_line.len() {
            format!("{cut}...")
        } else {
            cut
        }
    }
}

/// Removes `?query` and `#fragment` from every http(s) URL in `text`.
fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(after.len());
        let url = &after[..end];
        let kept = url.find(['?', '#']).map_or(url, |q| &url[..q]);
        out.push_str(kept);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// API keys recognised by their prefix: `sk-...` (OpenAI, Anthropic), `sk_live_...` (Stripe),
/// `AKIA...`/`ASIA...` (AWS), `ghp_...` and friends (GitHub), `xox?-...` (Slack), `AIza...`
/// (Google), `glpat-...` (GitLab), `hf_...` (Hugging Face).
fn find_prefixed_tokens(text: &str, ranges: &mut Vec<Range<usize>>) {
    struct Shape {
        prefix: &'static str,
        min: usize,
        max: usize,
        allowed: fn(u8) -> bool,
        /// Hyphenated words can look like keys; real keys are random and hold digits.
        needs_digit: bool,
    }
    fn key_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
    }
    fn alnum(b: u8) -> bool {
        b.is_ascii_alphanumeric()
    }
    fn upper_alnum(b: u8) -> bool {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    }
    const SHAPES: [Shape; 17] = [
        Shape {
            prefix: "sk-",
            min: 20,
            max: 400,
            allowed: key_char,
            needs_digit: true,
        },
        Shape {
            prefix: "sk_live_",
            min: 16,
            max: 200,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "sk_test_",
            min: 16,
            max: 200,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "rk_live_",
            min: 16,
            max: 200,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "AKIA",
            min: 16,
            max: 16,
            allowed: upper_alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "ASIA",
            min: 16,
            max: 16,
            allowed: upper_alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "ghp_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "gho_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "ghu_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "ghs_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "ghr_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "github_pat_",
            min: 30,
            max: 255,
            allowed: key_char,
            needs_digit: false,
        },
        Shape {
            prefix: "xox",
            min: 10,
            max: 255,
            allowed: key_char,
            needs_digit: true,
        },
        Shape {
            prefix: "AIza",
            min: 35,
            max: 35,
            allowed: key_char,
            needs_digit: false,
        },
        Shape {
            prefix: "glpat-",
            min: 20,
            max: 255,
            allowed: key_char,
            needs_digit: false,
        },
        Shape {
            prefix: "hf_",
            min: 30,
            max: 255,
            allowed: alnum,
            needs_digit: false,
        },
        Shape {
            prefix: "npm_",
            min: 36,
            max: 36,
            allowed: alnum,
            needs_digit: false,
        },
    ];
    let bytes = text.as_bytes();
    for shape in &SHAPES {
        for (start, _) in text.match_indices(shape.prefix) {
            if start > 0 && is_word_byte(bytes[start - 1]) {
                continue;
            }
            let mut body = start + shape.prefix.len();
            if shape.prefix == "xox" {
                // Slack: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`...
                match bytes.get(body..body + 2) {
                    Some([letter, b'-']) if letter.is_ascii_lowercase() => body += 2,
                    _ => continue,
                }
            }
            // Bounded, so that `sk-sk-sk-...` costs linear time.
            let run = bytes[body..]
                .iter()
                .take(shape.max + 1)
                .take_while(|&&b| (shape.allowed)(b))
                .count();
            if run < shape.min || run > shape.max {
                continue;
            }
            let end = body + run;
            if shape.needs_digit && !bytes[body..end].iter().any(u8::is_ascii_digit) {
                continue;
            }
            ranges.push(start..end);
        }
    }
}

/// PEM private keys, from the `-----BEGIN ... PRIVATE KEY-----` line to the matching END line
/// (or to the end of the text when it is cut).
fn find_private_keys(text: &str, ranges: &mut Vec<Range<usize>>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let start = from + i;
        let line_end = text[start..].find('\n').map_or(text.len(), |j| start + j);
        let header = &text[start..line_end];
        if !header.contains("PRIVATE KEY") {
            from = start + 11;
            continue;
        }
        let end = match text[line_end..].find("-----END ") {
            Some(j) => {
                let end_start = line_end + j;
                // The END line's closing dashes.
                text[end_start + 9..]
                    .find("-----")
                    .map_or(text.len(), |k| end_start + 9 + k + 5)
            }
            None => text.len(),
        };
        ranges.push(start..end);
        from = end;
        if from >= text.len() {
            break;
        }
    }
}

/// Key words whose assignment to a literal is a secret. A key matches when it ends with one
/// of them (`DB_PASSWORD`, `access_token`, `self.api_key`), case ignored; `max_tokens` and
/// `token_count` do not.
const SECRET_KEYS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "secret_key",
    "private_key",
    "credentials",
];

/// Unquoted values longer than this are cut here: real secrets are shorter, and the bound
/// keeps the scan linear on hostile input such as `token=token=token=...`.
const MAX_UNQUOTED: usize = 256;
/// A quoted value without its closing quote on the line is cut here.
const MAX_QUOTED: usize = 4096;

/// `password = "hunter2"`, `"api_key": "abc"`, `TOKEN=abc123`, `f(token='x')`: the literal
/// value is redacted and the key kept. Values that are code (`password = get_password()`,
/// `token = request.token`, `secret = None`) are left alone.
fn find_assignments(text: &str, ranges: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let is_key_byte = |b: u8| is_word_byte(b) || b == b'.' || b == b'-';
    // The first non-blank byte of the current line, to recognise `KEY=value` lines.
    let mut line_first: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line_first = None;
            i += 1;
            continue;
        }
        if line_first.is_none() && !matches!(b, b' ' | b'\t' | b'\r') {
            line_first = Some(i);
        }
        if !is_key_byte(b) || (i > 0 && is_key_byte(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < bytes.len() && is_key_byte(bytes[i]) {
            i += 1;
        }
        let key = text[key_start..i].to_ascii_lowercase();
        // The key word must start the key or follow a separator, so that `tokens` and
        // `mytoken` do not count but `my_token` and `self.token` do.
        let matched = SECRET_KEYS.iter().any(|k| {
            key.ends_with(k) && {
                let at = key.len() - k.len();
                at == 0 || matches!(key.as_bytes()[at - 1], b'_' | b'.' | b'-')
            }
        });
        if !matched {
            continue;
        }
        let at_line_start = match line_first {
            Some(first) if first < key_start => text[first..key_start].trim_end() == "export",
            _ => true,
        };
        if let Some(range) = assignment_value(text, i, at_line_start) {
            let next = range.end.max(i);
            if text[i..next].contains('\n') {
                // The value spanned lines (a triple-quoted string); what follows it is not
                // the start of a line.
                line_first = Some(next);
            }
            i = next;
            if !range.is_empty() {
                ranges.push(range);
            }
        }
    }
}

/// The literal value assigned to the key that ends at `key_end`, if any; an empty range after
/// a quoted value that is empty or a placeholder, so that the caller skips it.
fn assignment_value(text: &str, key_end: usize, at_line_start: bool) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let skip_blanks = |mut j: usize| {
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        j
    };
    let mut j = key_end;
    // A quoted key (`"password": ...`, `config["token"] = ...`).
    if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
        j += 1;
    }
    if j < bytes.len() && bytes[j] == b']' {
        j += 1;
    }
    let before_sep = j;
    j = skip_blanks(j);
    match *bytes.get(j)? {
        b'=' => {
            j += 1;
            if bytes.get(j) == Some(&b'=') {
                j += 1;
            }
        }
        b':' => {
            j += 1;
            if bytes.get(j) == Some(&b'=') {
                j += 1;
            } else {
                // A type annotation: `token: str = "abc"`, `token: Optional[str] = "abc"`.
                let k = skip_blanks(j);
                let annotation = bytes[k..]
                    .iter()
                    .take(MAX_UNQUOTED)
                    .take_while(|&&b| {
                        is_word_byte(b) || matches!(b, b'.' | b'[' | b']' | b'|' | b' ' | b',')
                    })
                    .count();
                let after = skip_blanks(k + annotation);
                if annotation > 0
                    && bytes[k].is_ascii_alphabetic()
                    && bytes.get(after) == Some(&b'=')
                    && bytes.get(after + 1) != Some(&b'=')
                {
                    j = after + 1;
                }
            }
        }
        _ => return None,
    }
    j = skip_blanks(j);
    // `KEY=value` with nothing around the `=`.
    let tight = !bytes[before_sep..j]
        .iter()
        .any(|&b| b == b' ' || b == b'\t');
    let env_line = at_line_start && tight;
    // String prefixes such as f"...", b'...', r"...".
    let mut q = j;
    while q < bytes.len()
        && q - j < 2
        && matches!(
            bytes[q],
            b'f' | b'b' | b'r' | b'u' | b'F' | b'B' | b'R' | b'U'
        )
    {
        q += 1;
    }
    if q < bytes.len() && matches!(bytes[q], b'"' | b'\'' | b'`') {
        let quote = bytes[q];
        let triple = bytes.get(q..q + 3) == Some(&[quote, quote, quote][..]);
        let open = if triple { q + 3 } else { q + 1 };
        let close = if triple {
            let delimiter = [quote, quote, quote];
            bytes[open..]
                .windows(3)
                .position(|w| w == delimiter)
                .map_or(bytes.len(), |k| open + k)
        } else {
            let mut k = open;
            let mut escaped = false;
            while k < bytes.len() && k - open < MAX_QUOTED {
                let b = bytes[k];
                if b == b'\n' {
                    break;
                }
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == quote {
                    break;
                }
                k += 1;
            }
            floor_char_boundary(text, k)
        };
        let value = &text[open..close];
        if value.is_empty() || is_placeholder(value) {
            return Some(close..close);
        }
        return Some(open..close);
    }
    // An unquoted value runs to a blank, a delimiter or the end of the line.
    let run = bytes[j..]
        .iter()
        .take(MAX_UNQUOTED)
        .take_while(|&&b| {
            let delimiter = matches!(b, b',' | b';' | b')' | b'}' | b']' | b'#');
            // In code, `password == expected:` ends at the colon; in a .env line a colon is
            // part of the password.
            !(b.is_ascii_whitespace() || delimiter || (b == b':' && !env_line))
        })
        .count();
    let end = floor_char_boundary(text, j + run);
    let value = &text[j..end];
    if value.is_empty() || is_placeholder(value) {
        return None;
    }
    // `KEY=value` alone on its line is a .env or shell assignment: always a literal.
    if env_line || !looks_like_code(value) {
        return Some(j..end);
    }
    None
}

/// The largest char boundary of `text` at or before `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Values that are not secrets but references or stand-ins: `${TOKEN}`, `$TOKEN`, `%(pw)s`,
/// `{{ token }}`, `None`, `true`...
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    v.starts_with('$')
        || v.starts_with("%(")
        || v.starts_with("{{")
        || matches!(
            v,
            "None" | "null" | "nil" | "true" | "false" | "True" | "False" | "undefined" | "..."
        )
}

/// An expression rather than a literal: a name, optionally followed by attribute access, an
/// index or a call (`get_password()`, `request.token`, `env["TOKEN"]`).
fn looks_like_code(value: &str) -> bool {
    let bytes = value.as_bytes();
    if !bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return false;
    }
    let name = bytes.iter().take_while(|&&b| is_word_byte(b)).count();
    match bytes.get(name) {
        None => !bytes.iter().any(u8::is_ascii_digit),
        Some(b'.' | b'[' | b'(') => true,
        Some(_) => false,
    }
}

/// `scheme://user:password@host`: the password.
fn find_url_passwords(text: &str, ranges: &mut Vec<Range<usize>>) {
    for (i, _) in text.match_indices("://") {
        let start = i + 3;
        // Bounded, so that a text of nothing but `://` stays linear.
        let limit = floor_char_boundary(text, start + MAX_UNQUOTED);
        let authority_end = text[start..limit]
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .map_or(limit, |k| start + k);
        let authority = &text[start..authority_end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let userinfo = &authority[..at];
        if let Some(colon) = userinfo.find(':') {
            let password = start + colon + 1..start + at;
            if !password.is_empty() {
                ranges.push(password);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::new().redact(text).0.into_owned()
    }

    #[test]
    fn secret_files_by_name() {
        for secret in [
            ".env",
            ".env.local",
            "config/.env.production",
            ".envrc",
            "certs/server.pem",
            "tls.key",
            "id_rsa",
            "home/.ssh/id_rsa.pub",
            "id_ed25519",
            ".aws/credentials",
            "store.P12",
            ".netrc",
        ] {
            assert!(is_secret_file(Path::new(secret)), "{secret}");
        }
        for ordinary in [
            "env.py",
            "src/environment.py",
            "keys.py",
            "monkey.py",
            "README.md",
        ] {
            assert!(!is_secret_file(Path::new(ordinary)), "{ordinary}");
        }
    }

    #[test]
    fn prefixed_keys_are_redacted() {
        let cases = [
            ("key = sk-proj-abc123DEF456ghi789JKL012", "key = [REDACTED]"),
            (
                "sk-ant-api03-AbCdEf0123456789xyz_-QQ done",
                "[REDACTED] done",
            ),
            ("aws AKIAIOSFODNN7EXAMPLE.", "aws [REDACTED]."),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]"),
            ("slack xoxb-1234-5678-abcdefghij", "slack [REDACTED]"),
            ("-----", "-----"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn ordinary_words_are_kept() {
        for text in [
            "the task-oriented-design-of-things-here works",
            "import sklearn; risk-assessment-framework-module",
            "AKIA is a prefix",
            "max_tokens = 4096",
            "token_count = 12",
            "tokens = tokenize(text)",
            "password = get_password()",
            "token = request.headers[\"X-Token\"]",
            "secret = None",
            "password: str",
            "def check(password: str) -> bool:",
            "if password == expected:",
            "api_key = os.environ[\"API_KEY\"]",
            "TOKEN=${TOKEN}",
        ] {
            assert_eq!(redact(text), text, "{text}");
        }
    }

    #[test]
    fn literal_assignments_are_redacted() {
        let cases = [
            ("password = \"hunter2\"", "password = \"[REDACTED]\""),
            ("DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED]"),
            ("export API_TOKEN=abcdef", "export API_TOKEN=[REDACTED]"),
            ("{\"api_key\": \"abc\"}", "{\"api_key\": \"[REDACTED]\"}"),
            (
                "connect(user='u', password='pw1')",
                "connect(user='u', password='[REDACTED]')",
            ),
            ("self.secret = 's3'", "self.secret = '[REDACTED]'"),
            (
                "config[\"token\"] = \"t0k\"",
                "config[\"token\"] = \"[REDACTED]\"",
            ),
            ("token: str = \"abc\"", "token: str = \"[REDACTED]\""),
            ("password = 1234", "password = [REDACTED]"),
            ("secret_key: hunter2!", "secret_key: [REDACTED]"),
            ("PASSWORD = f\"x{y}\"", "PASSWORD = f\"[REDACTED]\""),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn private_keys_and_url_passwords_are_redacted() {
        let pem =
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\ny";
        assert_eq!(redact(pem), "x\n[REDACTED]\ny");
        let cut = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn";
        assert_eq!(redact(cut), "[REDACTED]");
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(redact(cert), cert);
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:[REDACTED]@db:5432/x"
        );
    }

    #[test]
    fn configured_literals_and_counts() {
        let r = Redactor::new().with_literal("my-very-own-key-value");
        let (out, n) = r.redact("a my-very-own-key-value b my-very-own-key-value");
        assert_eq!(out, "a [REDACTED] b [REDACTED]");
        assert_eq!(n, 2);
        let (out, n) = r.redact("nothing here");
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(n, 0);
    }

    #[test]
    fn messages_are_scrubbed() {
        let r = Redactor::new().with_literal("sekrit-value-123");
        let msg = "bad key sekrit-value-123 for https://h/v1/x?key=abc#f\n  and more";
        assert_eq!(
            r.scrub_message(msg),
            "bad key [REDACTED] for https://h/v1/x and more"
        );
        let long = "x".repeat(1000);
        assert!(r.scrub_message(&long).len() <= 403);
    }

    #[test]
    fn hostile_input_stays_linear() {
        let start = std::time::Instant::now();
        for unit in [
            "token=",
            "a.token=a.",
            "://",
            "password = '",
            "sk-",
            "{\"token\": ",
        ] {
            let text = unit.repeat(200_000 / unit.len());
            let _ = redact(&text);
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn env_lines_keep_colons_in_values() {
        assert_eq!(redact("PASSWORD=ab:cd"), "PASSWORD=[REDACTED]");
    }

    #[test]
    fn non_ascii_text_survives() {
        let text = "mot de passe: « é » password = \"ünïcödé\" fin";
        assert_eq!(
            redact(text),
            "mot de passe: « é » password = \"[REDACTED]\" fin"
        );
    }

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("tandem-redact-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, text).expect("write");
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn prompt_filter_honours_ignore_files_at_every_level() {
        let dir = TempDir::new("filter");
        dir.write(".gitignore", "build/\n*.log\n");
        dir.write("pkg/.tandemignore", "generated.py\n!keep.log\n");
        dir.write("pkg/sub/.gitignore", "local.py\n");
        let mut filter = PromptFilter::new(Some(&dir.0));
        let excluded = |f: &mut PromptFilter, p: &str| f.exclusion(Path::new(p));
        assert_eq!(excluded(&mut filter, "src/app.py"), None);
        assert_eq!(
            excluded(&mut filter, "build/out.py").as_deref(),
            Some("it is ignored by .gitignore")
        );
        assert!(excluded(&mut filter, "x.log").is_some());
        assert_eq!(
            excluded(&mut filter, "pkg/generated.py").as_deref(),
            Some("it is ignored by pkg/.tandemignore")
        );
        assert_eq!(excluded(&mut filter, "pkg/keep.log"), None);
        assert!(excluded(&mut filter, "pkg/sub/local.py").is_some());
        assert_eq!(
            excluded(&mut filter, "src/../.env").as_deref(),
            Some("it is a file that holds secrets")
        );
        assert_eq!(
            excluded(&mut filter, "../other/app.py").as_deref(),
            Some("it is outside the workspace")
        );
        let absolute = dir.0.join("src/app.py");
        assert_eq!(filter.exclusion(&absolute), None);
    }
}
