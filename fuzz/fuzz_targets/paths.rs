//! Path normalisation: `edits::paths::WorkspacePath` on paths built from pieces that matter
//! (`..`, `.`, both separators, symlinks leading out, in, into `.git`, in loops or nowhere,
//! protected names in any case) and raw text, against a temporary workspace root.
//! Whatever is accepted resolves inside the root after symlinks, and, for writing, never into a
//! protected place; the normalised relative path has no `.`, `..` or empty part.
#![no_main]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tandem::edits::paths::{WorkspacePath, PROTECTED_DIRS, PROTECTED_FILES};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    root_canon: PathBuf,
}

/// root/ holds ordinary files and folders, protected ones, and symlinks of every kind; a
/// sibling folder `outside/` holds what links lead out to.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        for d in [
            "src/pkg",
            ".git/hooks",
            ".tandem",
            ".vscode",
            "docs",
            "nested/deeper",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::create_dir_all(outside.join("sub")).unwrap();
        for f in [
            "src/pkg/a.py",
            "pyproject.toml",
            "tandem.toml",
            "README.md",
            ".git/config",
        ] {
            std::fs::write(root.join(f), "x = 1\n").unwrap();
        }
        std::fs::write(outside.join("secret.py"), "x = 1\n").unwrap();
        let links: &[(&str, &Path)] = &[
            ("out", &outside),
            ("out_rel", Path::new("../outside")),
            ("out_file", &outside.join("secret.py")),
            ("in", Path::new("src")),
            ("in_abs", &root.join("src/pkg")),
            ("to_git", Path::new(".git")),
            ("to_git_hooks", Path::new(".git/hooks")),
            ("to_pyproject", Path::new("pyproject.toml")),
            ("dangling", Path::new("does/not/exist")),
            ("loop1", Path::new("loop2")),
            ("loop2", Path::new("loop1")),
            ("parent", Path::new("..")),
            ("self", Path::new(".")),
            ("nested/deeper/up2", Path::new("../..")),
            ("nested/deeper/up3", Path::new("../../..")),
            ("nested/to_out", Path::new("../out")),
        ];
        for (name, target) in links {
            symlink(target, root.join(name)).unwrap();
        }
        let root_canon = std::fs::canonicalize(&root).unwrap();
        Fixture {
            _dir: dir,
            root,
            root_canon,
        }
    })
}

const PIECES: &[&str] = &[
    "src",
    "pkg",
    "a.py",
    "new.py",
    "..",
    ".",
    "",
    "out",
    "out_rel",
    "out_file",
    "in",
    "in_abs",
    "to_git",
    "to_git_hooks",
    "to_pyproject",
    "dangling",
    "loop1",
    "parent",
    "self",
    "nested",
    "deeper",
    "up2",
    "up3",
    "to_out",
    ".git",
    ".GIT",
    ".Tandem",
    ".vscode",
    ".idea",
    "hooks",
    "config",
    "pyproject.toml",
    "PyProject.TOML",
    "tandem.toml",
    "docs",
    "secret.py",
    "~",
    "C:",
    "..\\..",
    "a b",
    "ü.py",
    " ",
    "...",
];

#[derive(Debug, Arbitrary)]
enum Piece {
    Known(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    pieces: Vec<(Piece, bool)>,
    trailing: u8,
}

fn build(input: &Input) -> String {
    let mut path = String::new();
    for (i, (piece, backslash)) in input.pieces.iter().enumerate() {
        if i > 0 {
            path.push(if *backslash { '\\' } else { '/' });
        }
        match piece {
            Piece::Known(k) => path.push_str(PIECES[*k as usize % PIECES.len()]),
            Piece::Raw(s) => path.push_str(s),
        }
    }
    match input.trailing % 8 {
        0 => path.push('/'),
        1 => path.push('\\'),
        _ => {}
    }
    path
}

/// The path with its deepest existing ancestor replaced by that ancestor's canonical form.
fn real_path(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(&existing) {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn check_inside(fx: &Fixture, raw: &str, resolved: &WorkspacePath, writing: bool) {
    let rel = resolved.relative();
    assert!(
        !rel.is_empty()
            && rel
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".."),
        "{raw:?} normalised to {rel:?}"
    );
    let absolute = resolved.absolute();
    assert!(
        absolute.starts_with(&fx.root_canon),
        "{raw:?} resolved outside the root: {}",
        absolute.display()
    );
    let real = real_path(absolute);
    let inside = real.strip_prefix(&fx.root_canon).unwrap_or_else(|_| {
        panic!(
            "{raw:?} leads outside the root after symlinks: {}",
            real.display()
        )
    });
    if writing {
        let parts: Vec<String> = inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        for part in &parts {
            assert!(
                !PROTECTED_DIRS.iter().any(|d| part.eq_ignore_ascii_case(d)),
                "{raw:?} accepted for writing into {}",
                real.display()
            );
        }
        let last = parts
            .last()
            .unwrap_or_else(|| panic!("{raw:?} accepted for writing: the root itself"));
        assert!(
            !PROTECTED_FILES.iter().any(|f| last.eq_ignore_ascii_case(f)),
            "{raw:?} accepted for writing {}",
            real.display()
        );
    }
}

fuzz_target!(|input: Input| {
    let fx = fixture();
    let raw = build(&input);
    if let Ok(resolved) = WorkspacePath::resolve(&fx.root, &raw) {
        check_inside(fx, &raw, &resolved, true);
    }
    if let Ok(resolved) = WorkspacePath::resolve_readable(&fx.root, &raw) {
        check_inside(fx, &raw, &resolved, false);
    }
});
