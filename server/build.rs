//! Compiles `src/analysis/children.c` and `src/analysis/flat.c` against the internal headers of
//! the tree-sitter library this crate links: its build script exports its public `include/`
//! directory (`DEP_TREE_SITTER_INCLUDE`), and the internal headers sit beside it in `src/`.

use std::path::PathBuf;

fn main() {
    let include = PathBuf::from(
        std::env::var("DEP_TREE_SITTER_INCLUDE")
            .expect("the tree-sitter crate exports its include directory"),
    );
    let internal = include
        .parent()
        .expect("tree-sitter's include directory has a parent")
        .join("src");
    println!("cargo:rerun-if-changed=src/analysis/children.c");
    println!("cargo:rerun-if-changed=src/analysis/flat.c");
    cc::Build::new()
        .file("src/analysis/children.c")
        .file("src/analysis/flat.c")
        .include(&include)
        .include(&internal)
        .opt_level(3)
        .warnings(true)
        .compile("tandem_flat");
}
