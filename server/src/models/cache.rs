//! The response cache: validated answers on disk under `.tandem/cache/models/`, keyed by a
//! SHA-256 hash of the model and the whole request, so that the same request twice costs one
//! call.
//!
//! Only answers that passed validation are stored, and a stored answer is validated again when
//! read (the file may have been edited or damaged), so the cache never lets unvalidated output
//! through. Files are written to a temporary name and renamed, so a reader never sees half a
//! file. When the cache grows past its size limit the least recently written answers go.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::schema::SchemaName;
use super::usage::Usage;

/// Bumped when the key's ingredients or the entry format change, so old entries are missed
/// rather than misread.
const FORMAT: u32 = 1;

/// A stored answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedAnswer {
    pub model: String,
    pub schema: SchemaName,
    pub value: Value,
    /// What the original call cost, for the record; a cache hit itself costs nothing.
    pub usage: Usage,
}

#[derive(Debug)]
pub struct ResponseCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes written since the size was last checked; the directory is only measured again
    /// when this passes a tenth of the limit.
    written: AtomicU64,
}

impl ResponseCache {
    /// The cache of the workspace at `root`; nothing is created until the first answer is
    /// stored.
    pub fn new(root: &Path, max_size_mb: u64) -> Arc<Self> {
        Arc::new(ResponseCache {
            dir: root.join(".tandem").join("cache").join("models"),
            max_bytes: max_size_mb.saturating_mul(1024 * 1024),
            written: AtomicU64::new(u64::MAX / 2),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a request: the hash of everything that shapes the answer, as canonical
    /// JSON (serde_json writes object keys in a fixed order).
    pub fn key(ingredients: &Value) -> String {
        let mut hasher = Sha256::new();
        hasher.update(FORMAT.to_le_bytes());
        hasher.update(ingredients.to_string().as_bytes());
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.dir.join(shard).join(format!("{key}.json"))
    }

    /// The stored answer for `key`, validated again against `schema`; `None` when there is
    /// none or it is unreadable or invalid (then it is removed).
    pub fn get(&self, key: &str, schema: SchemaName) -> Option<CachedAnswer> {
        let path = self.path_of(key);
        let bytes = std::fs::read(&path).ok()?;
        let parsed = serde_json::from_slice::<CachedAnswer>(&bytes)
            .ok()
            .filter(|entry| entry.schema == schema)
            .and_then(|mut entry| {
                entry.value = schema.validate(&entry.value).ok()?;
                Some(entry)
            });
        if parsed.is_none() {
            tracing::warn!("removing an unusable cache entry {}", path.display());
            let _ = std::fs::remove_file(&path);
        }
        parsed
    }

    /// Stores an answer. Failures are logged, never fatal: the cache is an optimisation.
    pub fn put(&self, key: &str, answer: &CachedAnswer) {
        if let Err(e) = self.try_put(key, answer) {
            tracing::warn!(
                "cannot write to the response cache {}: {e}",
                self.dir.display()
            );
        }
    }

    fn try_put(&self, key: &str, answer: &CachedAnswer) -> std::io::Result<()> {
        let path = self.path_of(key);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)?;
        self.ignore_in_git();
        let bytes = serde_json::to_vec(answer).map_err(std::io::Error::other)?;
        let tmp = parent.join(format!(".{key}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)?;
        let written = self
            .written
            .fetch_add(bytes.len() as u64, Ordering::Relaxed)
            .saturating_add(bytes.len() as u64);
        if written > self.max_bytes / 10 {
            self.written.store(0, Ordering::Relaxed);
            self.prune();
        }
        Ok(())
    }

    /// `.tandem/` holds local state that does not belong in version control.
    fn ignore_in_git(&self) {
        let Some(tandem_dir) = self.dir.parent().and_then(Path::parent) else {
            return;
        };
        let gitignore = tandem_dir.join(".gitignore");
        if !gitignore.exists() {
            let _ = std::fs::write(gitignore, "# Tandem's local state (cache, runs).\n*\n");
        }
    }

    /// Removes the oldest entries until the cache is under 80% of its limit.
    pub fn prune(&self) {
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                if let Ok(meta) = file.metadata() {
                    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                    entries.push((modified, meta.len(), file.path()));
                }
            }
        }
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        let target = self.max_bytes / 10 * 8;
        for (_, len, path) in entries {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tandem-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn answer(score: f64) -> CachedAnswer {
        CachedAnswer {
            model: "m".into(),
            schema: SchemaName::Verdict,
            value: json!({"score": score, "issues": []}),
            usage: Usage::default(),
        }
    }

    #[test]
    fn keys_depend_on_every_ingredient() {
        let a = ResponseCache::key(&json!({"model": "a", "prompt": "x"}));
        let b = ResponseCache::key(&json!({"model": "b", "prompt": "x"}));
        let a2 = ResponseCache::key(&json!({"prompt": "x", "model": "a"}));
        assert_ne!(a, b);
        assert_eq!(a, a2);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn stores_reads_and_revalidates() {
        let root = temp_root("rw");
        let cache = ResponseCache::new(&root, 10);
        let key = ResponseCache::key(&json!(1));
        assert!(cache.get(&key, SchemaName::Verdict).is_none());
        cache.put(&key, &answer(0.5));
        let hit = cache.get(&key, SchemaName::Verdict).expect("hit");
        assert_eq!(hit.value["score"], 0.5);
        assert!(root.join(".tandem/.gitignore").is_file());
        // Another schema is a miss, and a damaged entry is dropped.
        assert!(cache.get(&key, SchemaName::Plan).is_none());
        let path = cache.path_of(&key);
        assert!(
            !path.exists(),
            "an entry read with the wrong schema is removed"
        );
        cache.put(&key, &answer(0.5));
        std::fs::write(&path, br#"{"model":"m","schema":"Verdict","value":{"score":7,"issues":[]},"usage":{"input_tokens":0,"output_tokens":0,"requests":0,"cached":0,"estimated":false}}"#).expect("write");
        assert!(cache.get(&key, SchemaName::Verdict).is_none());
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn pruning_keeps_the_cache_under_its_limit() {
        let root = temp_root("prune");
        let cache = ResponseCache {
            dir: root.join(".tandem/cache/models"),
            max_bytes: 2_000,
            written: AtomicU64::new(0),
        };
        for i in 0..100 {
            cache.put(&ResponseCache::key(&json!(i)), &answer(0.1));
        }
        let mut total = 0;
        for shard in std::fs::read_dir(&cache.dir).expect("dir").flatten() {
            for file in std::fs::read_dir(shard.path()).expect("shard").flatten() {
                total += file.metadata().expect("meta").len();
            }
        }
        assert!(total <= 2_000, "{total}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
