//! The complexity estimate of a plan: how much code it touches (lines of the touched symbols,
//! or of the whole file when an item names none), how tangled that code is (cyclomatic
//! complexity counted on the syntax tree), and how many items and files it has. The label
//! sets the iteration budget of each item, capped by `run.max_iterations`.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use tree_sitter::Node;

use super::{PlanItem, PlanItemKind};
use crate::analysis::parse::parse_str;

/// The size label of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSize {
    Small,
    Medium,
    Large,
}

impl PlanSize {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanSize::Small => "small",
            PlanSize::Medium => "medium",
            PlanSize::Large => "large",
        }
    }

    pub fn parse(text: &str) -> Option<PlanSize> {
        match text {
            "small" => Some(PlanSize::Small),
            "medium" => Some(PlanSize::Medium),
            "large" => Some(PlanSize::Large),
            _ => None,
        }
    }

    /// Attempts per item before the cap: 2, 3 or 4.
    pub fn iterations(self) -> u32 {
        match self {
            PlanSize::Small => 2,
            PlanSize::Medium => 3,
            PlanSize::Large => 4,
        }
    }
}

/// The estimate shown with a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub size: PlanSize,
    pub items: usize,
    pub files: usize,
    /// Lines of existing code the plan touches.
    pub lines: usize,
    /// The summed cyclomatic complexity of the touched code.
    pub complexity: usize,
    /// Attempts each item gets (the label's budget capped by `run.max_iterations`).
    pub iterations: u32,
}

impl Estimate {
    /// One line, as the plan file and messages show it.
    pub fn render(&self) -> String {
        format!(
            "**{}**: {} item{}, {} file{}, {} line{} of existing code touched, cyclomatic \
             complexity {}; up to {} attempt{} per item",
            self.size.as_str(),
            self.items,
            plural(self.items),
            self.files,
            plural(self.files),
            self.lines,
            plural(self.lines),
            self.complexity,
            self.iterations,
            plural(self.iterations as usize)
        )
    }

    /// Reads back what [`Estimate::render`] wrote.
    pub fn parse(line: &str) -> Option<Estimate> {
        let line = line.trim();
        let rest = line.strip_prefix("**")?;
        let (size, rest) = rest.split_once("**")?;
        let size = PlanSize::parse(size)?;
        let numbers: Vec<usize> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect::<Option<Vec<usize>>>()?;
        let [items, files, lines, complexity, iterations] = numbers[..] else {
            return None;
        };
        Some(Estimate {
            size,
            items,
            files,
            lines,
            complexity,
            iterations: iterations as u32,
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What the estimate needs to know of one existing file: its text and where its symbols are.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub text: Arc<str>,
    /// Every class, function and method: qualified name and byte range.
    pub symbols: Vec<(String, Range<usize>)>,
}

/// Estimates `items` against the workspace's files (by workspace-relative path).
pub fn estimate(
    items: &[PlanItem],
    files: &HashMap<String, FileFacts>,
    max_iterations: u32,
) -> Estimate {
    let touched_files: BTreeSet<&str> = items.iter().map(|i| i.file.as_str()).collect();
    let mut lines = 0;
    let mut complexity = 0;
    // Each (file, range) counts once even when several items touch it.
    let mut counted: BTreeSet<(String, usize, usize)> = BTreeSet::new();
    let mut trees: HashMap<&str, tree_sitter::Tree> = HashMap::new();
    for item in items {
        if !matches!(item.kind, PlanItemKind::Modify | PlanItemKind::Docs) {
            continue;
        }
        let Some(facts) = files.get(&item.file) else {
            continue;
        };
        let mut ranges: Vec<Range<usize>> = item
            .symbols
            .iter()
            .filter_map(|wanted| {
                facts
                    .symbols
                    .iter()
                    .find(|(q, _)| q == wanted || q.ends_with(&format!(".{wanted}")))
                    .map(|(_, r)| r.clone())
            })
            .collect();
        if ranges.is_empty() {
            ranges.push(0..facts.text.len());
        }
        let tree = trees
            .entry(item.file.as_str())
            .or_insert_with(|| parse_str(&facts.text, None));
        for range in ranges {
            if !counted.insert((item.file.clone(), range.start, range.end)) {
                continue;
            }
            let text = facts.text.get(range.clone()).unwrap_or("");
            lines += text.lines().filter(|l| !l.trim().is_empty()).count();
            complexity += cyclomatic(tree.root_node(), &range);
        }
    }
    let size = if items.len() <= 2 && touched_files.len() <= 2 && complexity <= 10 && lines <= 80 {
        PlanSize::Small
    } else if items.len() >= 7 || touched_files.len() >= 5 || complexity > 40 || lines > 400 {
        PlanSize::Large
    } else {
        PlanSize::Medium
    };
    Estimate {
        size,
        items: items.len(),
        files: touched_files.len(),
        lines,
        complexity,
        iterations: size.iterations().min(max_iterations.max(1)),
    }
}

/// McCabe's number of the code in `range`: one per function, plus one per decision point
/// (`if`, `elif`, loops, `except`, `case`, boolean operators, conditional expressions and
/// comprehension filters). Module-level code counts as one function.
pub fn cyclomatic(root: Node<'_>, range: &Range<usize>) -> usize {
    let mut functions = 0;
    let mut decisions = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.end_byte() <= range.start || node.start_byte() >= range.end {
            continue;
        }
        let inside = node.start_byte() >= range.start && node.end_byte() <= range.end;
        if inside {
            match node.kind() {
                "function_definition" | "lambda" => functions += 1,
                "if_statement"
                | "elif_clause"
                | "for_statement"
                | "while_statement"
                | "except_clause"
                | "case_clause"
                | "boolean_operator"
                | "conditional_expression"
                | "if_clause"
                | "for_in_clause" => decisions += 1,
                _ => {}
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    functions.max(1) + decisions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, kind: PlanItemKind, file: &str, symbols: &[&str]) -> PlanItem {
        PlanItem {
            id: id.to_string(),
            title: id.to_string(),
            kind,
            file: file.to_string(),
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            description: String::new(),
            depends_on: Vec::new(),
            enabled: true,
        }
    }

    fn facts(text: &str, symbols: &[(&str, &str)]) -> FileFacts {
        FileFacts {
            text: Arc::from(text),
            symbols: symbols
                .iter()
                .map(|(q, def)| {
                    let start = text.find(def).unwrap();
                    let end = text[start..]
                        .find("\n\n")
                        .map_or(text.len(), |e| start + e + 1);
                    (q.to_string(), start..end)
                })
                .collect(),
        }
    }

    #[test]
    fn cyclomatic_counts_decisions() {
        let src = "def f(x):\n    if x and x > 1:\n        return [i for i in x if i]\n    elif x:\n        pass\n    for i in x:\n        try:\n            pass\n        except E:\n            pass\n    return 1 if x else 2\n";
        let tree = parse_str(src, None);
        // 1 + if + and + comprehension for + its if + elif + for + except + conditional.
        assert_eq!(cyclomatic(tree.root_node(), &(0..src.len())), 9);
        assert_eq!(cyclomatic(tree.root_node(), &(0..0)), 1);
    }

    #[test]
    fn small_medium_and_large_plans() {
        let src = "def f(x):\n    if x:\n        return 1\n    return 2\n\ndef g():\n    pass\n";
        let mut files = HashMap::new();
        files.insert(
            "m.py".to_string(),
            facts(src, &[("m.f", "def f"), ("m.g", "def g")]),
        );
        let small = estimate(
            &[item("a", PlanItemKind::Modify, "m.py", &["m.f"])],
            &files,
            3,
        );
        assert_eq!(small.size, PlanSize::Small);
        assert_eq!((small.lines, small.complexity, small.iterations), (4, 2, 2));
        let items: Vec<PlanItem> = (0..4)
            .map(|i| {
                item(
                    &format!("i{i}"),
                    PlanItemKind::Create,
                    &format!("f{i}.py"),
                    &[],
                )
            })
            .collect();
        let medium = estimate(&items, &files, 3);
        assert_eq!(
            (medium.size, medium.files, medium.iterations),
            (PlanSize::Medium, 4, 3)
        );
        let items: Vec<PlanItem> = (0..8)
            .map(|i| {
                item(
                    &format!("i{i}"),
                    PlanItemKind::Create,
                    &format!("f{i}.py"),
                    &[],
                )
            })
            .collect();
        let large = estimate(&items, &files, 3);
        // Large asks for 4 attempts; `run.max_iterations = 3` caps it.
        assert_eq!((large.size, large.iterations), (PlanSize::Large, 3));
        assert_eq!(estimate(&items, &files, 10).iterations, 4);
    }

    #[test]
    fn estimates_render_and_parse_back() {
        let e = Estimate {
            size: PlanSize::Medium,
            items: 1,
            files: 2,
            lines: 30,
            complexity: 7,
            iterations: 3,
        };
        let line = e.render();
        assert_eq!(line, "**medium**: 1 item, 2 files, 30 lines of existing code touched, cyclomatic complexity 7; up to 3 attempts per item");
        assert_eq!(Estimate::parse(&line), Some(e));
        assert_eq!(Estimate::parse("**huge**: 1 item"), None);
    }
}
