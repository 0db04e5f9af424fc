//! Server-sent events (the `text/event-stream` format both providers stream in), parsed from
//! byte chunks as they arrive.
//!
//! Chunks split anywhere, including inside a UTF-8 character or between `\r` and `\n`, so the
//! parser keeps the bytes of an unfinished line and decodes only whole lines.

/// One event: its `event:` name, if any, and its `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// An event larger than this is refused: no answer we ask for comes near it, and a hostile
/// server must not make us buffer without end.
const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`, so a `\n` at the start of the next one belongs to
    /// that line ending.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Bytes held for the event being built, to enforce the size limit.
    pending: usize,
}

/// The stream broke the format's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseError(pub String);

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk and returns the events it completes.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut events),
                b'\r' => {
                    self.end_line(&mut events);
                    self.after_cr = true;
                }
                _ => {
                    self.line.push(b);
                    self.pending += 1;
                    if self.pending > MAX_EVENT_BYTES {
                        return Err(SseError(format!(
                            "an event is larger than {} MB",
                            MAX_EVENT_BYTES / (1024 * 1024)
                        )));
                    }
                }
            }
        }
        Ok(events)
    }

    /// The event still being built when the stream ends, if it has data. The format says an
    /// unterminated event is dropped, but some servers omit the last blank line; the caller
    /// decides whether the stream was complete.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty() {
            // A non-empty line only adds a field; it never completes an event.
            let mut none = Vec::new();
            self.end_line(&mut none);
        }
        self.has_data.then(|| self.take_event())
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.is_empty() {
            if self.has_data {
                events.push(self.take_event());
            } else {
                self.event = None;
                self.pending = 0;
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            // `id` and `retry` matter for reconnecting, which a model answer never does.
            _ => {}
        }
    }

    fn take_event(&mut self) -> SseEvent {
        self.has_data = false;
        self.pending = 0;
        SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(parser.push(chunk).expect("within limits"));
        }
        out.extend(parser.finish());
        out
    }

    fn data(d: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: d.to_string(),
        }
    }

    #[test]
    fn events_split_anywhere() {
        let body = "data: {\"a\": 1}\n\n: comment\nevent: ping\ndata: x\n\ndata: [DONE]\n\n";
        let whole = all(&[body.as_bytes()]);
        assert_eq!(
            whole,
            vec![
                data("{\"a\": 1}"),
                SseEvent {
                    event: Some("ping".into()),
                    data: "x".into()
                },
                data("[DONE]")
            ]
        );
        // Byte by byte gives the same events.
        let bytes: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
        assert_eq!(all(&bytes), whole);
    }

    #[test]
    fn crlf_and_cr_line_endings_and_split_utf8() {
        let body = "data: é\r\n\r\ndata: b\r\rdata: c\n\n".as_bytes();
        let (a, b) = body.split_at(7); // inside "é"
        assert_eq!(all(&[a, b]), vec![data("é"), data("b"), data("c")]);
        // A chunk ending in `\r` followed by one starting with `\n`.
        assert_eq!(all(&[b"data: z\r", b"\n\r\n"]), vec![data("z")]);
    }

    #[test]
    fn multi_line_data_and_missing_space() {
        assert_eq!(all(&[b"data:a\ndata: b\n\n"]), vec![data("a\nb")]);
    }

    #[test]
    fn an_unterminated_last_event_is_returned_by_finish() {
        assert_eq!(all(&[b"data: last"]), vec![data("last")]);
        assert_eq!(all(&[b"data: last\n"]), vec![data("last")]);
        assert_eq!(all(&[b"event: x\n"]), vec![]);
    }

    #[test]
    fn huge_events_are_refused() {
        let mut parser = SseParser::new();
        let chunk = vec![b'a'; 1024 * 1024];
        let mut result = Ok(Vec::new());
        for _ in 0..20 {
            result = parser.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
    }
}
