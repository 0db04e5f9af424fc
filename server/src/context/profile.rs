//! The project profile: a short description of a Python project (its Python version,
//! frameworks, test framework, conventions and layout) for model prompts, derived from its
//! packaging files and the outlines and imports of its modules.
//!
//! Everything here works on texts the caller has read; nothing reads files.

use std::fmt::Write as _;

use serde::Serialize;
use tree_sitter::Node;

use crate::analysis::outline::{Outline, Symbol, SymbolKind};
use crate::analysis::parse::parse_str;
use crate::analysis::references::{RefKind, References};

/// What the profile is derived from. Every part is optional; missing files are `None`.
#[derive(Debug, Clone, Default)]
pub struct ProfileInputs<'a> {
    pub pyproject_toml: Option<&'a str>,
    pub setup_cfg: Option<&'a str>,
    pub setup_py: Option<&'a str>,
    /// The contents of `.python-version`.
    pub python_version_file: Option<&'a str>,
    /// The contents of the `requirements*.txt` files.
    pub requirements: Vec<&'a str>,
    pub modules: Vec<ModuleSummary<'a>>,
}

/// One module of the project.
#[derive(Debug, Clone)]
pub struct ModuleSummary<'a> {
    /// Workspace-relative, with `/` separators: `src/shop/cart.py`.
    pub path: &'a str,
    pub outline: &'a Outline,
    /// The absolute dotted names of the modules it imports, e.g. `django.db`, `pytest`
    /// (`imported_modules` computes them from references).
    pub imports: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocstringStyle {
    /// `Args:`, `Returns:`, `Raises:` sections with indented entries.
    #[default]
    Google,
    /// Section names underlined with dashes: `Parameters\n----------`.
    Numpy,
    /// Field lists: `:param x:`, `:returns:`, `:raises ValueError:`.
    Sphinx,
}

impl DocstringStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            DocstringStyle::Google => "google",
            DocstringStyle::Numpy => "numpy",
            DocstringStyle::Sphinx => "sphinx",
        }
    }

    /// Reads a style's name (`numpydoc` and `rest` are accepted too).
    pub fn parse(text: &str) -> Option<DocstringStyle> {
        match text.trim().to_ascii_lowercase().as_str() {
            "google" => Some(DocstringStyle::Google),
            "numpy" | "numpydoc" => Some(DocstringStyle::Numpy),
            "sphinx" | "rest" | "restructuredtext" => Some(DocstringStyle::Sphinx),
            _ => None,
        }
    }
}

/// How many docstrings show each style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DocstringCounts {
    pub google: usize,
    pub numpy: usize,
    pub sphinx: usize,
    /// Docstrings that show no style (most one-line docstrings).
    pub other: usize,
}

/// Where the project's code lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Layout {
    /// Packages (and possibly modules) under `src/`.
    Src {
        packages: Vec<String>,
        modules: Vec<String>,
    },
    /// Packages at the top of the workspace, possibly next to top-level modules.
    Flat {
        packages: Vec<String>,
        modules: Vec<String>,
    },
    /// One top-level module and no packages.
    SingleModule { module: String },
    /// Several top-level modules and no packages.
    Scripts { modules: Vec<String> },
    /// No Python modules outside tests, documentation and examples.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectProfile {
    /// The distribution name from the packaging files.
    pub name: Option<String>,
    /// The supported Python versions as declared (`>=3.11`, `^3.10`), or the version in
    /// `.python-version` when nothing declares a range.
    pub python_version: Option<String>,
    /// Well-known frameworks and major libraries, declared or imported, in a fixed order.
    pub frameworks: Vec<String>,
    /// Other declared dependencies and imported third-party packages, by distribution name,
    /// sorted.
    pub libraries: Vec<String>,
    /// `pytest` or `unittest`.
    pub test_framework: Option<String>,
    /// The style most docstrings that show one use.
    pub docstring_style: Option<DocstringStyle>,
    pub docstring_counts: DocstringCounts,
    /// The share of parameters (without `self` and `cls`) and return types that are
    /// annotated, from 0 to 1; 0 when there are no functions.
    pub type_hint_coverage: f64,
    /// How many parameters and return types `type_hint_coverage` counts.
    pub annotation_slots: usize,
    pub layout: Layout,
    /// Formatters, linters and type checkers configured or declared: `ruff`, `black`,
    /// `isort`, `flake8`, `pylint`, `mypy`, `pyright`.
    pub tools: Vec<String>,
    /// The line length the formatter or linter is configured with.
    pub line_length: Option<u32>,
    pub module_count: usize,
}

/// Frameworks and major libraries the profile names: display name, distribution names
/// (normalised) and top-level import names. The order is the order they are listed in.
const FRAMEWORKS: &[(&str, &[&str], &[&str])] = &[
    ("Django", &["django"], &["django"]),
    (
        "Django REST framework",
        &["djangorestframework"],
        &["rest_framework"],
    ),
    ("Flask", &["flask"], &["flask"]),
    ("FastAPI", &["fastapi"], &["fastapi"]),
    ("Starlette", &["starlette"], &["starlette"]),
    ("Litestar", &["litestar"], &["litestar"]),
    ("aiohttp", &["aiohttp"], &["aiohttp"]),
    ("Tornado", &["tornado"], &["tornado"]),
    ("Pyramid", &["pyramid"], &["pyramid"]),
    ("Sanic", &["sanic"], &["sanic"]),
    ("Falcon", &["falcon"], &["falcon"]),
    ("Bottle", &["bottle"], &["bottle"]),
    ("Quart", &["quart"], &["quart"]),
    ("Celery", &["celery"], &["celery"]),
    ("SQLAlchemy", &["sqlalchemy"], &["sqlalchemy"]),
    ("SQLModel", &["sqlmodel"], &["sqlmodel"]),
    ("Alembic", &["alembic"], &["alembic"]),
    ("Peewee", &["peewee"], &["peewee"]),
    ("Tortoise ORM", &["tortoise-orm"], &["tortoise"]),
    ("pydantic", &["pydantic"], &["pydantic"]),
    ("attrs", &["attrs"], &["attr", "attrs"]),
    ("marshmallow", &["marshmallow"], &["marshmallow"]),
    ("NumPy", &["numpy"], &["numpy"]),
    ("pandas", &["pandas"], &["pandas"]),
    ("Polars", &["polars"], &["polars"]),
    ("SciPy", &["scipy"], &["scipy"]),
    ("scikit-learn", &["scikit-learn", "sklearn"], &["sklearn"]),
    ("Matplotlib", &["matplotlib"], &["matplotlib"]),
    ("PyTorch", &["torch"], &["torch"]),
    ("TensorFlow", &["tensorflow"], &["tensorflow"]),
    ("JAX", &["jax"], &["jax"]),
    ("Click", &["click"], &["click"]),
    ("Typer", &["typer"], &["typer"]),
    ("Trio", &["trio"], &["trio"]),
    ("AnyIO", &["anyio"], &["anyio"]),
    ("pytest", &["pytest"], &["pytest"]),
    ("Hypothesis", &["hypothesis"], &["hypothesis"]),
];

/// Top-level import names whose distribution is named differently.
const IMPORT_TO_DISTRIBUTION: &[(&str, &str)] = &[
    ("Crypto", "pycryptodome"),
    ("MySQLdb", "mysqlclient"),
    ("OpenSSL", "pyopenssl"),
    ("PIL", "pillow"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv-python"),
    ("dateutil", "python-dateutil"),
    ("docx", "python-docx"),
    ("dotenv", "python-dotenv"),
    ("gi", "pygobject"),
    ("git", "gitpython"),
    ("jose", "python-jose"),
    ("jwt", "pyjwt"),
    ("magic", "python-magic"),
    ("multipart", "python-multipart"),
    ("serial", "pyserial"),
    ("slugify", "python-slugify"),
    ("usb", "pyusb"),
    ("yaml", "pyyaml"),
    ("zmq", "pyzmq"),
];

/// `sys.stdlib_module_names` of Python 3.11 without the private modules.
#[rustfmt::skip]
const STANDARD_LIBRARY: &[&str] = &[
    "__future__", "abc", "aifc", "antigravity", "argparse", "array", "ast", "asynchat", "asyncio",
    "asyncore", "atexit", "audioop", "base64", "bdb", "binascii", "bisect", "builtins", "bz2",
    "cProfile", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop",
    "collections", "colorsys", "compileall", "concurrent", "configparser", "contextlib",
    "contextvars", "copy", "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses",
    "datetime", "dbm", "decimal", "difflib", "dis", "distutils", "doctest", "email", "encodings",
    "ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch",
    "fractions", "ftplib", "functools", "gc", "genericpath", "getopt", "getpass", "gettext",
    "glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http", "idlelib",
    "imaplib", "imghdr", "imp", "importlib", "inspect", "io", "ipaddress", "itertools", "json",
    "keyword", "lib2to3", "linecache", "locale", "logging", "lzma", "mailbox", "mailcap",
    "marshal", "math", "mimetypes", "mmap", "modulefinder", "msilib", "msvcrt", "multiprocessing",
    "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path", "numbers", "opcode", "operator",
    "optparse", "os", "ossaudiodev", "pathlib", "pdb", "pickle", "pickletools", "pipes", "pkgutil",
    "platform", "plistlib", "poplib", "posix", "posixpath", "pprint", "profile", "pstats", "pty",
    "pwd", "py_compile", "pyclbr", "pydoc", "pydoc_data", "pyexpat", "queue", "quopri", "random",
    "re", "readline", "reprlib", "resource", "rlcompleter", "runpy", "sched", "secrets", "select",
    "selectors", "shelve", "shlex", "shutil", "signal", "site", "smtpd", "smtplib", "sndhdr",
    "socket", "socketserver", "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse",
    "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess", "sunau",
    "symtable", "sys", "sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile",
    "termios", "textwrap", "this", "threading", "time", "timeit", "tkinter", "token", "tokenize",
    "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle", "turtledemo", "types",
    "typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv", "warnings", "wave",
    "weakref", "webbrowser", "winreg", "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp",
    "zipfile", "zipimport", "zlib", "zoneinfo",
];

/// Formatters, linters and type checkers, in the order the profile lists them.
const TOOLS: &[&str] = &[
    "ruff", "black", "isort", "flake8", "pylint", "mypy", "pyright",
];

/// Directories whose packages are not the project's code.
const NOT_PROJECT_DIRECTORIES: &[&str] = &[
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "scripts",
    "benchmarks",
    "bench",
    "tools",
    "build",
    "dist",
    "venv",
    ".venv",
    "env",
];

/// Top-level files that are tooling rather than the project's modules.
const NOT_PROJECT_MODULES: &[&str] = &["setup", "conftest", "noxfile", "manage", "fabfile"];

/// Library names the rendered profile shows at most.
const MAX_RENDERED_LIBRARIES: usize = 15;

/// The absolute modules a module imports, from its references: `a.b` for `import a.b` and
/// `from a.b import c`. Relative imports, which stay inside the project, are left out.
pub fn imported_modules(references: &References) -> Vec<String> {
    let mut modules: Vec<String> = references
        .iter()
        .filter(|r| r.kind == RefKind::Module && !r.name.starts_with('.'))
        .map(|r| r.name.to_string())
        .collect();
    modules.sort();
    modules.dedup();
    modules
}

pub fn build_profile(inputs: &ProfileInputs) -> ProjectProfile {
    let pyproject = inputs
        .pyproject_toml
        .and_then(|text| text.parse::<toml::Table>().ok());
    let setup_cfg = inputs.setup_cfg.map(parse_ini);
    let setup_py = inputs.setup_py.map(read_setup_py);

    let name = pyproject
        .as_ref()
        .and_then(|p| {
            string_at(p, &["project", "name"]).or_else(|| string_at(p, &["tool", "poetry", "name"]))
        })
        .or_else(|| setup_cfg.as_ref().and_then(|c| c.get("metadata", "name")))
        .or_else(|| setup_py.as_ref().and_then(|s| s.name.clone()));

    let python_version = pyproject
        .as_ref()
        .and_then(|p| {
            string_at(p, &["project", "requires-python"])
                .or_else(|| string_at(p, &["tool", "poetry", "dependencies", "python"]))
        })
        .or_else(|| {
            setup_cfg
                .as_ref()
                .and_then(|c| c.get("options", "python_requires"))
        })
        .or_else(|| setup_py.as_ref().and_then(|s| s.python_requires.clone()))
        .or_else(|| inputs.python_version_file.and_then(first_meaningful_line))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());

    let mut declared: Vec<String> = Vec::new();
    if let Some(p) = &pyproject {
        pyproject_dependencies(p, &mut declared);
    }
    if let Some(c) = &setup_cfg {
        for (section, key) in [
            ("options", "install_requires"),
            ("options", "tests_require"),
            ("options", "setup_requires"),
        ] {
            if let Some(value) = c.get(section, key) {
                declared.extend(value.lines().filter_map(requirement_name));
            }
        }
        for (section, _, value) in &c.entries {
            if section == "options.extras_require" {
                declared.extend(value.lines().filter_map(requirement_name));
            }
        }
    }
    if let Some(s) = &setup_py {
        declared.extend(s.requirements.iter().filter_map(|r| requirement_name(r)));
    }
    for text in &inputs.requirements {
        declared.extend(text.lines().filter_map(requirement_name));
    }
    declared.sort();
    declared.dedup();

    let layout = layout(&inputs.modules);
    let own_modules = own_top_level_names(&inputs.modules);
    let mut imported_roots: Vec<&str> = inputs
        .modules
        .iter()
        .flat_map(|m| &m.imports)
        .map(|i| i.split('.').next().unwrap_or(i))
        .collect();
    imported_roots.sort_unstable();
    imported_roots.dedup();

    let mut frameworks = Vec::new();
    let mut framework_distributions: Vec<&str> = Vec::new();
    for (display, distributions, imports) in FRAMEWORKS {
        let is_declared = distributions
            .iter()
            .any(|d| declared.binary_search(&(*d).to_string()).is_ok());
        let is_imported = imports
            .iter()
            .any(|i| imported_roots.binary_search(i).is_ok());
        if is_declared || is_imported {
            frameworks.push((*display).to_string());
        }
        framework_distributions.extend(distributions.iter());
        framework_distributions.extend(imports.iter());
    }

    let mut libraries: Vec<String> = declared
        .iter()
        .filter(|d| !framework_distributions.contains(&d.as_str()))
        .filter(|d| !TOOLS.contains(&d.as_str()) && !is_test_tool(d))
        .filter(|d| name.as_deref().map(normalise) != Some((*d).clone()))
        .cloned()
        .collect();
    for root in &imported_roots {
        if root.starts_with('_')
            || STANDARD_LIBRARY.binary_search(root).is_ok()
            || own_modules.contains(&root.to_string())
            || framework_distributions.contains(root)
        {
            continue;
        }
        let distribution = IMPORT_TO_DISTRIBUTION
            .iter()
            .find(|(import, _)| import == root)
            .map_or_else(|| normalise(root), |(_, d)| (*d).to_string());
        if !TOOLS.contains(&distribution.as_str()) && !is_test_tool(&distribution) {
            libraries.push(distribution);
        }
    }
    libraries.sort();
    libraries.dedup();

    let test_framework = test_framework(
        inputs,
        pyproject.as_ref(),
        setup_cfg.as_ref(),
        &declared,
        &imported_roots,
    );

    let mut counts = DocstringCounts::default();
    let mut annotated = 0usize;
    let mut slots = 0usize;
    for module in &inputs.modules {
        let outline = module.outline;
        if let Some(doc) = &outline.docstring {
            count_style(&doc.text, &mut counts);
        }
        let mut stack: Vec<&Symbol> = outline.symbols.iter().collect();
        while let Some(symbol) = stack.pop() {
            if let Some(doc) = &symbol.docstring {
                count_style(&doc.text, &mut counts);
            }
            let (a, s) = annotation_slots(symbol);
            annotated += a;
            slots += s;
            stack.extend(&symbol.children);
        }
    }
    let docstring_style = majority_style(&counts);

    let (tools, line_length) = tools(pyproject.as_ref(), setup_cfg.as_ref(), &declared);

    ProjectProfile {
        name,
        python_version,
        frameworks,
        libraries,
        test_framework,
        docstring_style,
        docstring_counts: counts,
        type_hint_coverage: if slots == 0 {
            0.0
        } else {
            annotated as f64 / slots as f64
        },
        annotation_slots: slots,
        layout,
        tools,
        line_length,
        module_count: inputs.modules.len(),
    }
}

impl ProjectProfile {
    /// A compact text block for prompts: one line per known fact, unknown ones left out.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(name) = &self.name {
            let _ = writeln!(out, "Project: {name}");
        }
        if let Some(version) = &self.python_version {
            let _ = writeln!(out, "Python: {version}");
        }
        if let Some(layout) = render_layout(&self.layout) {
            let _ = writeln!(out, "Layout: {layout} ({} modules)", self.module_count);
        }
        if !self.frameworks.is_empty() {
            let _ = writeln!(out, "Frameworks: {}", self.frameworks.join(", "));
        }
        if !self.libraries.is_empty() {
            let shown = &self.libraries[..self.libraries.len().min(MAX_RENDERED_LIBRARIES)];
            let more = self.libraries.len() - shown.len();
            let _ = write!(out, "Libraries: {}", shown.join(", "));
            if more > 0 {
                let _ = write!(out, " and {more} more");
            }
            out.push('\n');
        }
        if let Some(tests) = &self.test_framework {
            let _ = writeln!(out, "Tests: {tests}");
        }
        if let Some(style) = self.docstring_style {
            let c = &self.docstring_counts;
            let name = match style {
                DocstringStyle::Google => "Google",
                DocstringStyle::Numpy => "NumPy",
                DocstringStyle::Sphinx => "Sphinx",
            };
            let count = match style {
                DocstringStyle::Google => c.google,
                DocstringStyle::Numpy => c.numpy,
                DocstringStyle::Sphinx => c.sphinx,
            };
            let styled = c.google + c.numpy + c.sphinx;
            let _ = writeln!(
                out,
                "Docstrings: {name} style ({count} of {styled} docstrings with sections)"
            );
        }
        if self.annotation_slots > 0 {
            let _ = writeln!(
                out,
                "Type hints: {:.0}% of parameters and return types annotated",
                self.type_hint_coverage * 100.0
            );
        }
        if !self.tools.is_empty() {
            let _ = write!(out, "Tools: {}", self.tools.join(", "));
            if let Some(length) = self.line_length {
                let _ = write!(out, " (line length {length})");
            }
            out.push('\n');
        } else if let Some(length) = self.line_length {
            let _ = writeln!(out, "Line length: {length}");
        }
        out
    }
}

fn render_layout(layout: &Layout) -> Option<String> {
    let list = |kind: &str, names: &[String]| {
        format!(
            "{kind} {}",
            names
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let plural = |names: &[String], one: &str, many: &str| {
        if names.len() == 1 {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    let packages_and_modules = |packages: &[String], modules: &[String]| {
        let mut parts = Vec::new();
        if !packages.is_empty() {
            parts.push(list(&plural(packages, "package", "packages"), packages));
        }
        if !modules.is_empty() {
            parts.push(list(&plural(modules, "module", "modules"), modules));
        }
        parts.join("; ")
    };
    Some(match layout {
        Layout::Src { packages, modules } => {
            format!("src layout, {}", packages_and_modules(packages, modules))
        }
        Layout::Flat { packages, modules } => {
            format!("flat layout, {}", packages_and_modules(packages, modules))
        }
        Layout::SingleModule { module } => format!("single module {module}"),
        Layout::Scripts { modules } => format!("scripts, {}", list("modules", modules)),
        Layout::Empty => return None,
    })
}

/// The docstring style `docstring` shows, if any: the style of its first section marker.
pub fn detect_docstring_style(docstring: &str) -> Option<DocstringStyle> {
    let lines: Vec<&str> = docstring.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_sphinx_field(trimmed) {
            return Some(DocstringStyle::Sphinx);
        }
        let next = lines.get(i + 1).map(|l| l.trim());
        if NUMPY_SECTIONS.contains(&trimmed)
            && next.is_some_and(|n| n.len() >= 3 && n.chars().all(|c| c == '-'))
        {
            return Some(DocstringStyle::Numpy);
        }
        if let Some(header) = trimmed.strip_suffix(':') {
            let indent = indentation(line);
            let next_content = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            if GOOGLE_SECTIONS.contains(&header)
                && next_content.is_some_and(|n| indentation(n) > indent)
            {
                return Some(DocstringStyle::Google);
            }
        }
    }
    None
}

const GOOGLE_SECTIONS: &[&str] = &[
    "Args",
    "Arguments",
    "Parameters",
    "Params",
    "Keyword Args",
    "Keyword Arguments",
    "Other Parameters",
    "Returns",
    "Return",
    "Yields",
    "Yield",
    "Raises",
    "Attributes",
];

const NUMPY_SECTIONS: &[&str] = &[
    "Parameters",
    "Other Parameters",
    "Returns",
    "Yields",
    "Receives",
    "Raises",
    "Warns",
    "Attributes",
    "Methods",
    "See Also",
    "Notes",
    "References",
    "Examples",
];

/// `:param x:`, `:type x:`, `:returns:`, `:raises ValueError:` and the other Sphinx fields.
fn is_sphinx_field(line: &str) -> bool {
    const FIELDS: &[&str] = &[
        "param",
        "parameter",
        "arg",
        "argument",
        "key",
        "keyword",
        "type",
        "returns",
        "return",
        "rtype",
        "raises",
        "raise",
        "except",
        "exception",
        "ivar",
        "cvar",
        "var",
        "yields",
        "yield",
        "ytype",
    ];
    let Some(rest) = line.strip_prefix(':') else {
        return false;
    };
    let field: &str = rest
        .split(|c: char| c == ':' || c.is_whitespace())
        .next()
        .unwrap_or("");
    FIELDS.contains(&field) && rest[field.len()..].contains(':')
}

fn indentation(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count()
}

fn count_style(docstring: &str, counts: &mut DocstringCounts) {
    match detect_docstring_style(docstring) {
        Some(DocstringStyle::Google) => counts.google += 1,
        Some(DocstringStyle::Numpy) => counts.numpy += 1,
        Some(DocstringStyle::Sphinx) => counts.sphinx += 1,
        None => counts.other += 1,
    }
}

/// The style with the most docstrings; ties go to the earlier of Google, NumPy, Sphinx.
fn majority_style(counts: &DocstringCounts) -> Option<DocstringStyle> {
    let candidates = [
        (counts.google, DocstringStyle::Google),
        (counts.numpy, DocstringStyle::Numpy),
        (counts.sphinx, DocstringStyle::Sphinx),
    ];
    let mut best: Option<(usize, DocstringStyle)> = None;
    for (count, style) in candidates {
        if count > 0 && best.is_none_or(|(b, _)| count > b) {
            best = Some((count, style));
        }
    }
    best.map(|(_, style)| style)
}

/// The annotated and total parameters (without a method's `self` or `cls`) and return
/// types of one function.
fn annotation_slots(symbol: &Symbol) -> (usize, usize) {
    let Some(signature) = &symbol.signature else {
        return (0, 0);
    };
    let mut annotated = 0;
    let mut total = 0;
    for (i, parameter) in signature.parameters.iter().enumerate() {
        let is_receiver = i == 0
            && symbol.kind == SymbolKind::Method
            && matches!(parameter.name.as_str(), "self" | "cls");
        if is_receiver {
            continue;
        }
        total += 1;
        annotated += usize::from(parameter.annotation.is_some());
    }
    total += 1;
    annotated += usize::from(signature.returns.is_some());
    (annotated, total)
}

fn layout(modules: &[ModuleSummary]) -> Layout {
    let mut src_packages = Vec::new();
    let mut src_modules = Vec::new();
    let mut packages = Vec::new();
    let mut top_modules = Vec::new();
    for module in modules {
        let parts: Vec<&str> = module.path.split('/').collect();
        match parts.as_slice() {
            ["src", file] => src_modules.extend(module_stem(file)),
            // Under `src/`, every directory holding Python code is a package, `__init__.py`
            // or not (namespace packages).
            ["src", package, ..] => src_packages.push((*package).to_string()),
            [package, "__init__.py" | "__init__.pyi"]
                if !NOT_PROJECT_DIRECTORIES.contains(package) =>
            {
                packages.push((*package).to_string());
            }
            [file] => top_modules.extend(
                module_stem(file).filter(|stem| !NOT_PROJECT_MODULES.contains(&stem.as_str())),
            ),
            _ => {}
        }
    }
    for list in [
        &mut src_packages,
        &mut src_modules,
        &mut packages,
        &mut top_modules,
    ] {
        list.sort();
        list.dedup();
    }
    if !src_packages.is_empty() || !src_modules.is_empty() {
        Layout::Src {
            packages: src_packages,
            modules: src_modules,
        }
    } else if !packages.is_empty() {
        Layout::Flat {
            packages,
            modules: top_modules,
        }
    } else {
        match top_modules.len() {
            0 => Layout::Empty,
            1 => Layout::SingleModule {
                module: top_modules.remove(0),
            },
            _ => Layout::Scripts {
                modules: top_modules,
            },
        }
    }
}

/// `cart` for `cart.py`; nothing for other files.
fn module_stem(file: &str) -> Option<String> {
    file.strip_suffix(".py")
        .or_else(|| file.strip_suffix(".pyi"))
        .map(str::to_string)
}

/// The top-level names the project's own code is imported by: its packages and top-level
/// modules, wherever they are.
fn own_top_level_names(modules: &[ModuleSummary]) -> Vec<String> {
    let mut names: Vec<String> = modules
        .iter()
        .filter_map(|m| {
            let path = m.path.strip_prefix("src/").unwrap_or(m.path);
            let first = path.split('/').next().unwrap_or(path);
            module_stem(first).or_else(|| path.contains('/').then(|| first.to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn test_framework(
    inputs: &ProfileInputs,
    pyproject: Option<&toml::Table>,
    setup_cfg: Option<&Ini>,
    declared: &[String],
    imported_roots: &[&str],
) -> Option<String> {
    let configured = pyproject.is_some_and(|p| table_at(p, &["tool", "pytest"]).is_some())
        || setup_cfg.is_some_and(|c| c.has_section("tool:pytest"));
    let has_conftest = inputs
        .modules
        .iter()
        .any(|m| m.path == "conftest.py" || m.path.ends_with("/conftest.py"));
    let declared_pytest = declared
        .iter()
        .any(|d| d == "pytest" || d.starts_with("pytest-"));
    let imported_pytest = imported_roots.contains(&"pytest");
    if configured || has_conftest || declared_pytest || imported_pytest {
        return Some("pytest".to_string());
    }
    let has_test_case = inputs.modules.iter().any(|m| {
        let mut stack: Vec<&Symbol> = m.outline.symbols.iter().collect();
        while let Some(symbol) = stack.pop() {
            if symbol.kind == SymbolKind::Class
                && symbol.bases.iter().any(|b| b.ends_with("TestCase"))
            {
                return true;
            }
            stack.extend(&symbol.children);
        }
        false
    });
    (has_test_case || imported_roots.contains(&"unittest")).then(|| "unittest".to_string())
}

fn is_test_tool(distribution: &str) -> bool {
    distribution == "pytest" || distribution.starts_with("pytest-") || distribution == "coverage"
}

fn tools(
    pyproject: Option<&toml::Table>,
    setup_cfg: Option<&Ini>,
    declared: &[String],
) -> (Vec<String>, Option<u32>) {
    let configured = |tool: &str| {
        pyproject.is_some_and(|p| table_at(p, &["tool", tool]).is_some())
            || setup_cfg.is_some_and(|c| c.has_section(tool))
    };
    let tools: Vec<String> = TOOLS
        .iter()
        .filter(|tool| configured(tool) || declared.iter().any(|d| d == *tool))
        .map(|tool| (*tool).to_string())
        .collect();
    let from_pyproject = |path: &[&str]| {
        pyproject
            .and_then(|p| value_at(p, path))
            .and_then(toml::Value::as_integer)
            .and_then(|n| u32::try_from(n).ok())
    };
    let line_length = from_pyproject(&["tool", "ruff", "line-length"])
        .or_else(|| from_pyproject(&["tool", "black", "line-length"]))
        .or_else(|| {
            setup_cfg
                .and_then(|c| c.get("flake8", "max-line-length"))
                .and_then(|v| v.trim().parse().ok())
        })
        .or_else(|| from_pyproject(&["tool", "isort", "line_length"]));
    (tools, line_length)
}

/// The names of the dependencies a `pyproject.toml` declares: PEP 621 dependencies and
/// optional dependencies, PEP 735 dependency groups, Poetry's dependencies and groups, and
/// PDM's development dependencies.
fn pyproject_dependencies(pyproject: &toml::Table, out: &mut Vec<String>) {
    let strings = |value: Option<&toml::Value>, out: &mut Vec<String>| {
        for item in value.and_then(toml::Value::as_array).into_iter().flatten() {
            if let Some(name) = item.as_str().and_then(requirement_name) {
                out.push(name);
            }
        }
    };
    strings(value_at(pyproject, &["project", "dependencies"]), out);
    for path in [
        &["project", "optional-dependencies"][..],
        &["dependency-groups"],
        &["tool", "pdm", "dev-dependencies"],
    ] {
        for (_, group) in table_at(pyproject, path).into_iter().flatten() {
            strings(Some(group), out);
        }
    }
    let poetry_keys = |table: Option<&toml::Table>, out: &mut Vec<String>| {
        for key in table.into_iter().flat_map(|t| t.keys()) {
            if key != "python" {
                out.push(normalise(key));
            }
        }
    };
    poetry_keys(
        table_at(pyproject, &["tool", "poetry", "dependencies"]),
        out,
    );
    poetry_keys(
        table_at(pyproject, &["tool", "poetry", "dev-dependencies"]),
        out,
    );
    for (_, group) in table_at(pyproject, &["tool", "poetry", "group"])
        .into_iter()
        .flatten()
    {
        poetry_keys(
            group
                .as_table()
                .and_then(|g| g.get("dependencies"))
                .and_then(toml::Value::as_table),
            out,
        );
    }
}

fn value_at<'t>(table: &'t toml::Table, path: &[&str]) -> Option<&'t toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut current = table;
    for key in parents {
        current = current.get(*key)?.as_table()?;
    }
    current.get(*last)
}

fn table_at<'t>(table: &'t toml::Table, path: &[&str]) -> Option<&'t toml::Table> {
    value_at(table, path)?.as_table()
}

fn string_at(table: &toml::Table, path: &[&str]) -> Option<String> {
    value_at(table, path)?.as_str().map(str::to_string)
}

/// The distribution name of one requirement line (`Django>=4.2`, `flask[async]`,
/// `pkg @ https://...`, `-e git+https://...#egg=name`), normalised as PEP 503 says. Comments,
/// blank lines, options and bare URLs give nothing.
fn requirement_name(line: &str) -> Option<String> {
    let line = line.split(" #").next().unwrap_or(line).trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    if line.starts_with('-') {
        // `-e <url>#egg=name` names its distribution; other options do not.
        let egg = line.split("#egg=").nth(1)?;
        return requirement_name(egg);
    }
    let name: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let rest = &line[name.len()..];
    if name.is_empty() || rest.starts_with(':') {
        // A URL such as `https://...` without a name.
        return None;
    }
    Some(normalise(&name))
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` as one `-`.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn first_meaningful_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

/// An INI file as `setup.cfg` writes it: `[section]`, `key = value` or `key: value`, and
/// values continued on indented lines.
struct Ini {
    /// `(section, key, value)` in file order; continued values are joined with newlines.
    entries: Vec<(String, String, String)>,
    sections: Vec<String>,
}

impl Ini {
    fn get(&self, section: &str, key: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
    }

    fn has_section(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

fn parse_ini(text: &str) -> Ini {
    let mut ini = Ini {
        entries: Vec::new(),
        sections: Vec::new(),
    };
    let mut section = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, _, value)) = ini.entries.last_mut() {
                if !value.is_empty() {
                    value.push('\n');
                }
                value.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.trim().to_string();
            ini.sections.push(section.clone());
            continue;
        }
        if let Some(at) = trimmed.find(['=', ':']) {
            let key = trimmed[..at].trim().to_string();
            let value = trimmed[at + 1..].trim().to_string();
            ini.entries.push((section.clone(), key, value));
        }
    }
    ini
}

/// What a `setup.py` passes to `setup()`.
#[derive(Debug, Default)]
struct SetupPy {
    name: Option<String>,
    python_requires: Option<String>,
    /// `install_requires`, `extras_require`, `tests_require` and `setup_requires` entries.
    requirements: Vec<String>,
}

/// Reads the keyword arguments of the `setup(...)` call in a `setup.py`. A list given by
/// name (`install_requires=REQUIREMENTS`) is looked up among the module's assignments.
fn read_setup_py(source: &str) -> SetupPy {
    let tree = parse_str(source, None);
    let text = |node: Node<'_>| source.get(node.byte_range()).unwrap_or("");
    let mut out = SetupPy::default();
    let mut assignments: Vec<(String, Node<'_>)> = Vec::new();
    let mut calls: Vec<Node<'_>> = Vec::new();
    // An explicit stack: the nesting of a `setup.py` is the input's to decide.
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "call" => {
                let callee = node.child_by_field_name("function").map(text).unwrap_or("");
                if callee == "setup" || callee.ends_with(".setup") {
                    calls.push(node);
                }
            }
            "assignment" => {
                if let (Some(left), Some(right)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    if left.kind() == "identifier" {
                        assignments.push((text(left).to_string(), right));
                    }
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    for call in calls {
        let Some(arguments) = call.child_by_field_name("arguments") else {
            continue;
        };
        let mut cursor = arguments.walk();
        for argument in arguments.named_children(&mut cursor) {
            if argument.kind() != "keyword_argument" {
                continue;
            }
            let (Some(key), Some(value)) = (
                argument.child_by_field_name("name"),
                argument.child_by_field_name("value"),
            ) else {
                continue;
            };
            // A value given by name is looked up among the module's assignments.
            let value = if value.kind() == "identifier" {
                assignments
                    .iter()
                    .find(|(name, _)| name == text(value))
                    .map_or(value, |(_, v)| *v)
            } else {
                value
            };
            match text(key) {
                "name" => out.name = string_literals(value, source).into_iter().next(),
                "python_requires" => {
                    out.python_requires = string_literals(value, source).into_iter().next();
                }
                "install_requires" | "extras_require" | "tests_require" | "setup_requires" => {
                    out.requirements.extend(string_literals(value, source));
                }
                _ => {}
            }
        }
    }
    out
}

/// The values of the plain string literals in and under `node` (dictionary keys excluded,
/// since in `extras_require` they name extras, not requirements).
fn string_literals(node: Node<'_>, source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "string" => {
                let literal = source.get(node.byte_range()).unwrap_or("");
                let quote = literal.find(['"', '\'']).unwrap_or(literal.len());
                let (prefix, quoted) = literal.split_at(quote);
                // f-strings and bytes are not requirement strings.
                if !prefix.contains(['f', 'F', 'b', 'B']) {
                    out.push(quoted.trim_matches(|c| c == '"' || c == '\'').to_string());
                }
            }
            "pair" => stack.extend(node.child_by_field_name("value")),
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                stack.extend(children.into_iter().rev());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::outline::outline;
    use crate::analysis::references::references;

    /// A module's path, outline and imports, owned so that summaries can borrow them.
    struct Parsed {
        path: String,
        outline: Outline,
        imports: Vec<String>,
    }

    fn parse(path: &str, source: &str) -> Parsed {
        let tree = parse_str(source, None);
        Parsed {
            path: path.to_string(),
            outline: outline(&tree, source, ""),
            imports: imported_modules(&references(&tree, source)),
        }
    }

    fn summaries(parsed: &[Parsed]) -> Vec<ModuleSummary<'_>> {
        parsed
            .iter()
            .map(|p| ModuleSummary {
                path: &p.path,
                outline: &p.outline,
                imports: p.imports.clone(),
            })
            .collect()
    }

    fn profile_of_modules(files: &[(&str, &str)]) -> ProjectProfile {
        let parsed: Vec<Parsed> = files.iter().map(|(p, s)| parse(p, s)).collect();
        build_profile(&ProfileInputs {
            modules: summaries(&parsed),
            ..ProfileInputs::default()
        })
    }

    fn shop_modules() -> Vec<Parsed> {
        [
            (
                "src/shop/__init__.py",
                include_str!("../../../examples/shop/src/shop/__init__.py"),
            ),
            (
                "src/shop/cart.py",
                include_str!("../../../examples/shop/src/shop/cart.py"),
            ),
            (
                "src/shop/cli.py",
                include_str!("../../../examples/shop/src/shop/cli.py"),
            ),
            (
                "src/shop/errors.py",
                include_str!("../../../examples/shop/src/shop/errors.py"),
            ),
            (
                "src/shop/inventory.py",
                include_str!("../../../examples/shop/src/shop/inventory.py"),
            ),
            (
                "src/shop/models.py",
                include_str!("../../../examples/shop/src/shop/models.py"),
            ),
            (
                "src/shop/orders.py",
                include_str!("../../../examples/shop/src/shop/orders.py"),
            ),
            (
                "src/shop/payments.py",
                include_str!("../../../examples/shop/src/shop/payments.py"),
            ),
            (
                "src/shop/pricing.py",
                include_str!("../../../examples/shop/src/shop/pricing.py"),
            ),
            (
                "src/shop/utils.py",
                include_str!("../../../examples/shop/src/shop/utils.py"),
            ),
            (
                "tests/conftest.py",
                include_str!("../../../examples/shop/tests/conftest.py"),
            ),
            (
                "tests/test_cart.py",
                include_str!("../../../examples/shop/tests/test_cart.py"),
            ),
        ]
        .iter()
        .map(|(p, s)| parse(p, s))
        .collect()
    }

    #[test]
    fn the_example_shop() {
        let parsed = shop_modules();
        let profile = build_profile(&ProfileInputs {
            pyproject_toml: Some(include_str!("../../../examples/shop/pyproject.toml")),
            modules: summaries(&parsed),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.name.as_deref(), Some("shop"));
        assert_eq!(profile.python_version.as_deref(), Some(">=3.11"));
        assert_eq!(profile.frameworks, ["pytest"]);
        assert!(profile.libraries.is_empty(), "{:?}", profile.libraries);
        assert_eq!(profile.test_framework.as_deref(), Some("pytest"));
        assert_eq!(profile.docstring_style, Some(DocstringStyle::Google));
        assert_eq!(
            profile.layout,
            Layout::Src {
                packages: vec!["shop".to_string()],
                modules: vec![],
            }
        );
        assert_eq!(profile.tools, ["ruff"]);
        assert_eq!(profile.line_length, Some(100));
        assert_eq!(profile.module_count, 12);
        // The example is mostly annotated and documents with Google sections; exact counts
        // are checked on inline snippets below, so that editing the example breaks nothing.
        assert!(
            profile.type_hint_coverage > 0.7,
            "{}",
            profile.type_hint_coverage
        );
        assert!(profile.docstring_counts.google > 10);
        let rendered = profile.render();
        assert!(
            rendered.starts_with(
                "Project: shop\nPython: >=3.11\nLayout: src layout, package shop (12 modules)\n\
             Frameworks: pytest\nTests: pytest\nDocstrings: Google style ("
            ),
            "{rendered}"
        );
        assert!(
            rendered.ends_with("Tools: ruff (line length 100)\n"),
            "{rendered}"
        );
    }

    #[test]
    fn renders_every_known_fact_on_its_own_line() {
        let profile = ProjectProfile {
            name: Some("shop".into()),
            python_version: Some(">=3.11".into()),
            frameworks: vec!["Django".into(), "pytest".into()],
            libraries: (0..17).map(|i| format!("lib{i:02}")).collect(),
            test_framework: Some("pytest".into()),
            docstring_style: Some(DocstringStyle::Numpy),
            docstring_counts: DocstringCounts {
                google: 1,
                numpy: 7,
                sphinx: 0,
                other: 30,
            },
            type_hint_coverage: 0.456,
            annotation_slots: 90,
            layout: Layout::Flat {
                packages: vec!["shop".into(), "shop_admin".into()],
                modules: vec!["manage_tools".into()],
            },
            tools: vec!["ruff".into(), "mypy".into()],
            line_length: Some(88),
            module_count: 40,
        };
        assert_eq!(
            profile.render(),
            "\
Project: shop
Python: >=3.11
Layout: flat layout, packages shop, shop_admin; module manage_tools (40 modules)
Frameworks: Django, pytest
Libraries: lib00, lib01, lib02, lib03, lib04, lib05, lib06, lib07, lib08, lib09, lib10, lib11, lib12, lib13, lib14 and 2 more
Tests: pytest
Docstrings: NumPy style (7 of 8 docstrings with sections)
Type hints: 46% of parameters and return types annotated
Tools: ruff, mypy (line length 88)
"
        );
        let empty = build_profile(&ProfileInputs::default());
        assert_eq!(empty.render(), "");
        assert_eq!(empty.layout, Layout::Empty);
    }

    // Docstring styles.

    #[test]
    fn google_style() {
        let doc = "Add a product.\n\nArgs:\n    product: What to add.\n\nReturns:\n    The line.\n";
        assert_eq!(detect_docstring_style(doc), Some(DocstringStyle::Google));
        // As written in the source, before indentation is cleaned.
        let raw = "Add a product.\n\n        Raises:\n            CartError: If empty.\n        ";
        assert_eq!(detect_docstring_style(raw), Some(DocstringStyle::Google));
    }

    #[test]
    fn numpy_style() {
        let doc = "Add a product.\n\nParameters\n----------\nproduct : Product\n    What to add.\n";
        assert_eq!(detect_docstring_style(doc), Some(DocstringStyle::Numpy));
        let returns_only = "Total.\n\n    Returns\n    -------\n    Decimal\n";
        assert_eq!(
            detect_docstring_style(returns_only),
            Some(DocstringStyle::Numpy)
        );
    }

    #[test]
    fn sphinx_style() {
        for doc in [
            "Add a product.\n\n:param product: What to add.\n:returns: The line.\n",
            "Total.\n\n:rtype: Decimal\n",
            "Check.\n\n:raises ValueError: If negative.\n",
            "Thing.\n\n    :type x: int\n",
        ] {
            assert_eq!(
                detect_docstring_style(doc),
                Some(DocstringStyle::Sphinx),
                "{doc}"
            );
        }
    }

    #[test]
    fn docstrings_without_sections_show_no_style() {
        for doc in [
            "",
            "One line.",
            "Summary.\n\nA paragraph that says what Returns: means in prose.\n",
            // A header with nothing indented under it is prose, not a section.
            "Summary.\n\nReturns:\nnothing useful.\n",
            // Dashes under a word that is not a section name are a plain reStructuredText title.
            "Title\n-----\n\nText.\n",
            // A role is not a field.
            "See :class:`Cart` and :param without a colon.\n",
        ] {
            assert_eq!(detect_docstring_style(doc), None, "{doc:?}");
        }
    }

    #[test]
    fn the_first_marker_decides_a_mixed_docstring() {
        let doc = "Mixed.\n\n:param x: First.\n\nReturns:\n    Second.\n";
        assert_eq!(detect_docstring_style(doc), Some(DocstringStyle::Sphinx));
    }

    #[test]
    fn the_style_of_the_majority_of_styled_docstrings_wins() {
        let profile = profile_of_modules(&[(
            "m.py",
            "\
def a(x):
    \"\"\"A.

    :param x: X.
    \"\"\"

def b(x):
    \"\"\"B.

    Args:
        x: X.
    \"\"\"

def c(x):
    \"\"\"C.

    Args:
        x: X.
    \"\"\"

def d(x):
    \"\"\"D, which has no sections.\"\"\"

def e(x):
    \"\"\"E, nor has this.\"\"\"
",
        )]);
        assert_eq!(profile.docstring_style, Some(DocstringStyle::Google));
        assert_eq!(
            profile.docstring_counts,
            DocstringCounts {
                google: 2,
                numpy: 0,
                sphinx: 1,
                other: 2,
            }
        );
        // A tie goes to the style listed first: Google, then NumPy, then Sphinx.
        assert_eq!(
            majority_style(&DocstringCounts {
                google: 0,
                numpy: 3,
                sphinx: 3,
                other: 0,
            }),
            Some(DocstringStyle::Numpy)
        );
        assert_eq!(majority_style(&DocstringCounts::default()), None);
    }

    // Type hints.

    #[test]
    fn type_hint_coverage_counts_parameters_without_self_or_cls_and_returns() {
        let profile = profile_of_modules(&[(
            "m.py",
            "\
class Cart:
    def add(self, product: Product, quantity=1) -> None:
        def helper(x):
            return x

    @classmethod
    def empty(cls) -> Cart:
        pass

    @staticmethod
    def parse(text: str, *args: str, **kwargs) -> Cart:
        pass

def total(cart):
    pass
",
        )]);
        // add: product yes, quantity no, return yes; helper: x no, return no; empty: return
        // yes (`cls` is not counted); parse: text yes, *args yes, **kwargs no, return yes;
        // total: cart no, return no.
        assert_eq!(profile.annotation_slots, 12);
        assert!((profile.type_hint_coverage - 6.0 / 12.0).abs() < 1e-12);
        assert_eq!(
            profile_of_modules(&[("m.py", "x = 1\n")]).type_hint_coverage,
            0.0
        );
    }

    // Python version.

    #[test]
    fn python_version_sources_in_order_of_preference() {
        let pep621 = "[project]\nname = \"a\"\nrequires-python = \">=3.9\"\n";
        let poetry =
            "[tool.poetry]\nname = \"a\"\n[tool.poetry.dependencies]\npython = \"^3.10\"\n";
        let cfg = "[options]\npython_requires = >=3.8\n";
        let setup = "from setuptools import setup\nsetup(name='a', python_requires='>=3.7')\n";
        let file = "# pyenv\n3.12.1\n";
        let version = |inputs: ProfileInputs| build_profile(&inputs).python_version;
        assert_eq!(
            version(ProfileInputs {
                pyproject_toml: Some(pep621),
                setup_cfg: Some(cfg),
                python_version_file: Some(file),
                ..ProfileInputs::default()
            }),
            Some(">=3.9".into())
        );
        assert_eq!(
            version(ProfileInputs {
                pyproject_toml: Some(poetry),
                ..ProfileInputs::default()
            }),
            Some("^3.10".into())
        );
        assert_eq!(
            version(ProfileInputs {
                setup_cfg: Some(cfg),
                setup_py: Some(setup),
                ..ProfileInputs::default()
            }),
            Some(">=3.8".into())
        );
        assert_eq!(
            version(ProfileInputs {
                setup_py: Some(setup),
                python_version_file: Some(file),
                ..ProfileInputs::default()
            }),
            Some(">=3.7".into())
        );
        assert_eq!(
            version(ProfileInputs {
                python_version_file: Some(file),
                ..ProfileInputs::default()
            }),
            Some("3.12.1".into())
        );
    }

    // Dependencies and frameworks.

    #[test]
    fn pep_621_dependencies_and_optional_dependencies() {
        let pyproject = "\
[project]
name = \"Web-App\"
dependencies = [\"Django>=4.2\", \"psycopg[binary]~=3.1\", \"requests ; python_version > '3.8'\"]

[project.optional-dependencies]
test = [\"pytest>=7\", \"pytest-django\", \"factory_boy\"]
api = [\"djangorestframework\"]

[dependency-groups]
dev = [\"mypy\", {include-group = \"test\"}]

[tool.black]
line-length = 88
";
        let profile = build_profile(&ProfileInputs {
            pyproject_toml: Some(pyproject),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.name.as_deref(), Some("Web-App"));
        assert_eq!(
            profile.frameworks,
            ["Django", "Django REST framework", "pytest"]
        );
        assert_eq!(profile.libraries, ["factory-boy", "psycopg", "requests"]);
        assert_eq!(profile.test_framework.as_deref(), Some("pytest"));
        assert_eq!(profile.tools, ["black", "mypy"]);
        assert_eq!(profile.line_length, Some(88));
    }

    #[test]
    fn poetry_dependencies_and_groups() {
        let pyproject = "\
[tool.poetry]
name = \"api\"

[tool.poetry.dependencies]
python = \"^3.11\"
fastapi = \"^0.110\"
SQLAlchemy = {version = \"^2.0\", extras = [\"asyncio\"]}
httpx = \"*\"

[tool.poetry.group.dev.dependencies]
ruff = \"*\"
hypothesis = \"*\"

[tool.ruff]
line-length = 120
";
        let profile = build_profile(&ProfileInputs {
            pyproject_toml: Some(pyproject),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.python_version.as_deref(), Some("^3.11"));
        assert_eq!(profile.frameworks, ["FastAPI", "SQLAlchemy", "Hypothesis"]);
        assert_eq!(profile.libraries, ["httpx"]);
        assert_eq!(profile.tools, ["ruff"]);
        assert_eq!(profile.line_length, Some(120));
        assert_eq!(profile.test_framework, None);
    }

    #[test]
    fn setup_cfg() {
        let cfg = "\
[metadata]
name = legacy

[options]
python_requires = >=3.8
install_requires =
    flask>=2
    SQLAlchemy
    # a comment
    click

[options.extras_require]
yaml =
    PyYAML

[flake8]
max-line-length = 99

[tool:pytest]
addopts = -q
";
        let profile = build_profile(&ProfileInputs {
            setup_cfg: Some(cfg),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.name.as_deref(), Some("legacy"));
        assert_eq!(profile.python_version.as_deref(), Some(">=3.8"));
        assert_eq!(profile.frameworks, ["Flask", "SQLAlchemy", "Click"]);
        assert_eq!(profile.libraries, ["pyyaml"]);
        assert_eq!(profile.test_framework.as_deref(), Some("pytest"));
        assert_eq!(profile.tools, ["flake8"]);
        assert_eq!(profile.line_length, Some(99));
    }

    #[test]
    fn setup_py_keyword_arguments_and_named_lists() {
        let setup = "\
from setuptools import setup, find_packages

REQUIREMENTS = [
    \"numpy>=1.20\",
    'pandas',
]

if __name__ == \"__main__\":
    setup(
        name=\"analysis\",
        packages=find_packages(),
        install_requires=REQUIREMENTS,
        extras_require={\"plot\": [r\"matplotlib\"], \"docs\": [\"sphinx\", f\"{x}\", b\"y\"]},
        tests_require=[\"pytest\"],
    )
";
        let profile = build_profile(&ProfileInputs {
            setup_py: Some(setup),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.name.as_deref(), Some("analysis"));
        assert_eq!(
            profile.frameworks,
            ["NumPy", "pandas", "Matplotlib", "pytest"]
        );
        assert_eq!(profile.libraries, ["sphinx"]);
    }

    #[test]
    fn requirement_lines() {
        let names: Vec<Option<String>> = [
            "Django>=4.2,<5",
            "flask[async] == 2.3.*",
            "zope.interface",
            "Foo_Bar.baz",
            "pkg @ https://example.com/pkg.zip",
            "requests ; python_version < '3.8'",
            "numpy  # pinned for the GPU",
            "-r base.txt",
            "--index-url https://pypi.example.com",
            "-e git+https://github.com/org/lib.git#egg=internal-lib",
            "https://example.com/archive.zip",
            "# comment",
            "",
        ]
        .iter()
        .map(|l| requirement_name(l))
        .collect();
        let expected: Vec<Option<String>> = [
            Some("django"),
            Some("flask"),
            Some("zope-interface"),
            Some("foo-bar-baz"),
            Some("pkg"),
            Some("requests"),
            Some("numpy"),
            None,
            None,
            Some("internal-lib"),
            None,
            None,
            None,
        ]
        .iter()
        .map(|n| n.map(str::to_string))
        .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn requirements_files_and_imports_add_libraries() {
        let parsed = [
            parse(
                "app/__init__.py",
                "import os\nimport yaml\nfrom PIL import Image\nfrom app.core import run\nfrom . import util\nimport _thread\nimport flask\n",
            ),
            parse("app/core.py", "import requests\n"),
        ];
        let profile = build_profile(&ProfileInputs {
            requirements: vec!["requests==2.31\n-r dev.txt\n", "celery\n"],
            modules: summaries(&parsed),
            ..ProfileInputs::default()
        });
        assert_eq!(profile.frameworks, ["Flask", "Celery"]);
        // `os` and `_thread` are the standard library's, `app` is the project's own.
        assert_eq!(profile.libraries, ["pillow", "pyyaml", "requests"]);
        assert_eq!(
            profile.layout,
            Layout::Flat {
                packages: vec!["app".into()],
                modules: vec![],
            }
        );
    }

    #[test]
    fn malformed_packaging_files_are_ignored() {
        let profile = build_profile(&ProfileInputs {
            pyproject_toml: Some("[project\nname = "),
            setup_cfg: Some("no sections = at all\n  continued\n[broken"),
            setup_py: Some("setup(install_requires=[\"a\", "),
            requirements: vec!["\u{0}\u{feff}===", "[", "-e"],
            ..ProfileInputs::default()
        });
        assert_eq!(profile.name, None);
        assert_eq!(profile.python_version, None);
    }

    // Tests.

    #[test]
    fn pytest_from_conftest_or_imports_else_unittest_from_test_cases() {
        let conftest = profile_of_modules(&[("tests/conftest.py", "")]);
        assert_eq!(conftest.test_framework.as_deref(), Some("pytest"));

        let imported = profile_of_modules(&[("tests/test_a.py", "import pytest\n")]);
        assert_eq!(imported.test_framework.as_deref(), Some("pytest"));

        let unittest = profile_of_modules(&[(
            "tests/test_a.py",
            "import unittest\n\nclass TestA(unittest.TestCase):\n    def test_a(self):\n        pass\n",
        )]);
        assert_eq!(unittest.test_framework.as_deref(), Some("unittest"));

        let django = profile_of_modules(&[(
            "app/tests.py",
            "from django.test import TestCase\n\nclass T(TestCase):\n    pass\n",
        )]);
        assert_eq!(django.test_framework.as_deref(), Some("unittest"));

        let none = profile_of_modules(&[("app.py", "def main():\n    pass\n")]);
        assert_eq!(none.test_framework, None);

        let configured = build_profile(&ProfileInputs {
            pyproject_toml: Some("[tool.pytest.ini_options]\naddopts = \"-q\"\n"),
            ..ProfileInputs::default()
        });
        assert_eq!(configured.test_framework.as_deref(), Some("pytest"));
    }

    // Layout.

    #[test]
    fn layouts() {
        let layout = |paths: &[&str]| {
            let files: Vec<(&str, &str)> = paths.iter().map(|p| (*p, "")).collect();
            profile_of_modules(&files).layout
        };
        assert_eq!(
            layout(&[
                "src/shop/__init__.py",
                "src/shop/cart.py",
                "src/helpers.py",
                "tests/test_cart.py"
            ]),
            Layout::Src {
                packages: vec!["shop".into()],
                modules: vec!["helpers".into()],
            }
        );
        // A namespace package under `src/` has no `__init__.py`.
        assert_eq!(
            layout(&["src/ns/plugin.py"]),
            Layout::Src {
                packages: vec!["ns".into()],
                modules: vec![],
            }
        );
        assert_eq!(
            layout(&[
                "mysite/__init__.py",
                "polls/__init__.py",
                "polls/models.py",
                "manage.py",
                "tests/__init__.py",
                "docs/conf.py"
            ]),
            Layout::Flat {
                packages: vec!["mysite".into(), "polls".into()],
                modules: vec![],
            }
        );
        assert_eq!(
            layout(&["tool.py", "setup.py", "tests/test_tool.py"]),
            Layout::SingleModule {
                module: "tool".into()
            }
        );
        assert_eq!(
            layout(&["backup.py", "restore.py"]),
            Layout::Scripts {
                modules: vec!["backup".into(), "restore".into()]
            }
        );
        assert_eq!(layout(&["tests/test_a.py", "setup.py"]), Layout::Empty);
    }

    #[test]
    fn tables_searched_by_binary_search_are_sorted() {
        assert!(STANDARD_LIBRARY.windows(2).all(|w| w[0] < w[1]));
        assert!(STANDARD_LIBRARY.binary_search(&"json").is_ok());
    }

    #[test]
    fn imported_modules_are_absolute_and_distinct() {
        let source =
            "import os, os.path\nfrom a.b import c\nfrom . import d\nfrom .e import f\nimport os\n";
        let tree = parse_str(source, None);
        assert_eq!(
            imported_modules(&references(&tree, source)),
            ["a.b", "os", "os.path"]
        );
    }
}
