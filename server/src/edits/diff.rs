//! Unified diffs of byte edits, as `diff -u` and `git diff` print them: used by `tandem doc`
//! and by the headless edit writer to show what would change.

use std::ops::Range;

use crate::analysis::docstring::placement::DocEdit;

/// An edit the diff can show: a byte range of the old text and what replaces it.
pub trait EditSpan {
    fn range(&self) -> Range<usize>;
    fn new_text(&self) -> &str;
}

impl EditSpan for DocEdit {
    fn range(&self) -> Range<usize> {
        self.range.clone()
    }
    fn new_text(&self) -> &str {
        &self.new_text
    }
}

impl EditSpan for super::TextEdit {
    fn range(&self) -> Range<usize> {
        self.range.clone()
    }
    fn new_text(&self) -> &str {
        &self.new_text
    }
}

/// A unified diff (3 lines of context) of `edits` on `source`, as `diff -u` / `git diff` print
/// it, with `a/` and `b/` prefixes.
pub fn unified_diff<E: EditSpan>(path: &str, source: &str, edits: &[E]) -> String {
    if edits.is_empty() {
        return String::new();
    }
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&s| s <= source.len())
        .collect();
    let line_count = if source.ends_with('\n') || source.is_empty() {
        line_starts.len() - 1
    } else {
        line_starts.len()
    };
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
    let start_of = |line: usize| line_starts.get(line).copied().unwrap_or(source.len());
    // Each edit touches whole old lines [a, b) and gives new text for them.
    let mut chunks: Vec<(usize, usize, Vec<&E>)> = Vec::new();
    for e in edits {
        let a = line_of(e.range().start);
        let b = if e.range().is_empty() && e.range().start == start_of(a) {
            a
        } else {
            let last = if e.range().end > e.range().start
                && e.range().end == start_of(line_of(e.range().end))
            {
                line_of(e.range().end)
            } else {
                line_of(e.range().end) + 1
            };
            last.min(line_count).max(a + 1).min(line_count.max(a + 1))
        };
        match chunks.last_mut() {
            Some((_, pb, list)) if a < *pb => {
                *pb = (*pb).max(b);
                list.push(e);
            }
            _ => chunks.push((a, b, vec![e])),
        }
    }
    let old_lines: Vec<&str> = (0..line_count)
        .map(|l| &source[start_of(l)..start_of(l + 1)])
        .collect();
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    const CONTEXT: usize = 3;
    let mut i = 0;
    while i < chunks.len() {
        // Group chunks whose context overlaps into one hunk.
        let mut j = i;
        while j + 1 < chunks.len() && chunks[j + 1].0 <= chunks[j].1 + 2 * CONTEXT {
            j += 1;
        }
        let hunk_start = chunks[i].0.saturating_sub(CONTEXT);
        let hunk_end = (chunks[j].1 + CONTEXT).min(line_count);
        let mut body = String::new();
        let (mut old_n, mut new_n) = (0usize, 0usize);
        let mut line = hunk_start;
        for (a, b, list) in &chunks[i..=j] {
            while line < *a {
                push_line(&mut body, ' ', old_lines[line]);
                old_n += 1;
                new_n += 1;
                line += 1;
            }
            for l in &old_lines[*a..*b] {
                push_line(&mut body, '-', l);
                old_n += 1;
            }
            let region = start_of(*a)..start_of(*b);
            let mut replaced = String::new();
            let mut at = region.start;
            for e in list {
                replaced.push_str(&source[at..e.range().start]);
                replaced.push_str(e.new_text());
                at = e.range().end;
            }
            replaced.push_str(&source[at.max(region.start)..region.end.max(at)]);
            for l in replaced.split_inclusive('\n') {
                push_line(&mut body, '+', l);
                new_n += 1;
            }
            line = *b;
        }
        while line < hunk_end {
            push_line(&mut body, ' ', old_lines[line]);
            old_n += 1;
            new_n += 1;
            line += 1;
        }
        let range = |start: usize, n: usize| {
            if n == 0 {
                format!("{start},0")
            } else if n == 1 {
                format!("{}", start + 1)
            } else {
                format!("{},{n}", start + 1)
            }
        };
        let new_start = hunk_start as isize
            + chunks[..i]
                .iter()
                .map(|(a, b, list)| {
                    let old = b - a;
                    let new = new_lines_of(source, &start_of, *a, *b, list);
                    new as isize - old as isize
                })
                .sum::<isize>();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(hunk_start, old_n),
            range(new_start.max(0) as usize, new_n)
        ));
        out.push_str(&body);
        i = j + 1;
    }
    out
}

fn new_lines_of<E: EditSpan>(
    source: &str,
    start_of: &dyn Fn(usize) -> usize,
    a: usize,
    b: usize,
    list: &[&E],
) -> usize {
    let region = start_of(a)..start_of(b);
    let mut replaced = String::new();
    let mut at = region.start;
    for e in list {
        replaced.push_str(&source[at..e.range().start]);
        replaced.push_str(e.new_text());
        at = e.range().end;
    }
    replaced.push_str(&source[at.max(region.start)..region.end.max(at)]);
    replaced.split_inclusive('\n').count()
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}
