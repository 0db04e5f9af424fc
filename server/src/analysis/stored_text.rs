//! A module's text as the index keeps it: plain when analysed, then compressed (LZ4) once the
//! index packs it, and handed out whole on request.
//!
//! The index keeps every file's text so that answers can quote code and turn byte ranges into
//! positions without reading the disk again (which may have changed since). Plain, the
//! standard library's texts take 31.5 MB; packed, 11.3 MB, for 63 ms of one core's time to
//! pack them all and 16 ms to unpack them all (the ignored test `index::packing_a_corpus`;
//! `tandem-bench index-memory-child` measures the peak). `ProjectIndex::graph` packs new
//! texts on the other cores while the call graph is solved, so a cold build does not wait
//! for it.

use std::sync::Arc;

/// Texts shorter than this stay plain: packing them would save a few bytes at most.
const PACK_FROM: usize = 256;

#[derive(Clone)]
pub struct StoredText(Repr);

#[derive(Clone)]
enum Repr {
    Plain(Arc<str>),
    Packed(Arc<Packed>),
}

struct Packed {
    /// The LZ4 block of the text's bytes.
    bytes: Box<[u8]>,
    /// The text's length in bytes.
    len: usize,
}

impl StoredText {
    pub fn new(text: Arc<str>) -> StoredText {
        StoredText(Repr::Plain(text))
    }

    /// The text. A packed text is unpacked into a new string on every call: callers that
    /// read it several times keep the `Arc`.
    pub fn get(&self) -> Arc<str> {
        match &self.0 {
            Repr::Plain(text) => text.clone(),
            Repr::Packed(packed) => packed.unpack(),
        }
    }

    /// The text's length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Plain(text) => text.len(),
            Repr::Packed(packed) => packed.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_packed(&self) -> bool {
        matches!(self.0, Repr::Packed(_))
    }

    /// Compresses the text, unless it is short or does not compress; the text read back is
    /// the same either way.
    pub fn pack(&mut self) {
        let Repr::Plain(text) = &self.0 else {
            return;
        };
        if text.len() < PACK_FROM {
            return;
        }
        let bytes = lz4_flex::block::compress(text.as_bytes());
        if bytes.len() >= text.len() {
            return;
        }
        self.0 = Repr::Packed(Arc::new(Packed {
            bytes: bytes.into_boxed_slice(),
            len: text.len(),
        }));
    }

    /// Bytes held (the text or its compressed form), for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Plain(text) => text.len(),
            Repr::Packed(packed) => packed.bytes.len(),
        }
    }
}

impl Packed {
    fn unpack(&self) -> Arc<str> {
        // The bytes were compressed from a `str` by `pack` and never change, so neither step
        // can fail short of memory corruption; an empty text (every range clamps to it) is
        // still better than a panic in a request handler.
        let text = lz4_flex::block::decompress(&self.bytes, self.len)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match text {
            Some(text) => Arc::from(text),
            None => {
                tracing::error!("a stored text could not be unpacked");
                Arc::from("")
            }
        }
    }
}

impl std::fmt::Debug for StoredText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredText")
            .field("len", &self.len())
            .field("packed", &self.is_packed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(text: &str) -> StoredText {
        StoredText::new(Arc::from(text))
    }

    #[test]
    fn a_packed_text_reads_back_the_same() {
        let text = "def größe(x):\n    return x + '😀'\n".repeat(50);
        let mut s = stored(&text);
        s.pack();
        assert!(s.is_packed());
        assert!(s.heap_bytes() < text.len() / 4, "{}", s.heap_bytes());
        assert_eq!(&*s.get(), text.as_str());
        assert_eq!(s.len(), text.len());
        // Packing twice changes nothing.
        s.pack();
        assert_eq!(&*s.get(), text.as_str());
    }

    #[test]
    fn short_texts_stay_plain_and_packing_never_grows_a_text() {
        let mut short = stored("x = 1\n");
        short.pack();
        assert!(!short.is_packed());
        assert_eq!(&*short.get(), "x = 1\n");

        // Few repeats for LZ4 to use: whichever form is kept, it is no larger than the text.
        let noise: String = (0..4096u32)
            .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20000).unwrap())
            .collect();
        let mut s = stored(&noise);
        s.pack();
        assert!(s.heap_bytes() <= noise.len());
        assert_eq!(&*s.get(), noise.as_str());
    }

    #[test]
    fn an_empty_text_is_stored() {
        let mut s = stored("");
        s.pack();
        assert!(s.is_empty());
        assert_eq!(&*s.get(), "");
    }
}
