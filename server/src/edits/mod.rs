//! Edits to the user's files that come from a model: checked paths (`paths`), the
//! `tandem_edits` operations resolved into per-file byte edits (`ops`), the headless writer
//! (`apply`) and unified diffs (`diff`).
//!
//! The flow is: the schema-validated answer becomes an `EditSet`; `resolve_edits` applies its
//! operations in order to the files' texts (symbols are found through the outline, so edits
//! survive line shifts) and yields `ResolvedEdits`, one `FileChange` per touched file with the
//! hash of the text it was computed from. The language server turns that into one versioned
//! `WorkspaceEdit`; the command line shows `ResolvedEdits::diff` and writes with `apply`.

use std::ops::Range;

pub mod apply;
pub mod diff;
pub mod ops;
pub mod paths;

pub use apply::{apply, finish_interrupted, ApplyError};
pub use ops::{
    resolve_edits, ChangeKind, DiskTexts, EditError, EditOp, EditSet, FileChange, FileTexts,
    ResolvedEdits,
};
pub use paths::{PathError, PathErrorKind, WorkspacePath};

/// A byte range of the old text and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub new_text: String,
}

/// A stable 64-bit hash of a file's bytes (the first eight bytes of its SHA-256), used to tell
/// whether a file changed between computing edits and writing them.
pub fn content_hash(bytes: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    u64::from_be_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 32 bytes"),
    )
}
