//! Framing between the editor's stdio and tower-lsp-server, made robust to malformed input.
//!
//! tower-lsp-server stops reading for good after the first frame it cannot decode (its framed
//! reader ends on an error), so one malformed message would end the session. This module sits
//! in between: it reads each `Content-Length` frame itself, answers a frame that is not valid
//! JSON with a JSON-RPC parse error (-32700) and one that is JSON but not a JSON-RPC message
//! with an invalid-request error (-32600), and forwards only well-formed messages. Output from
//! the server and these error answers are written to stdout whole frames at a time, so they
//! never interleave.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Frames larger than this are refused; the limit leaves room for a 50 MB file sent as JSON.
pub const MAX_FRAME_BYTES: usize = 512 * 1024 * 1024;

/// The outcome of reading one frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// Headers without a usable `Content-Length`; the text says what was wrong.
    BadHeader(String),
}

/// Reads the next frame, or `None` at the end of input.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Frame>> {
    let mut content_length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_header {
                // Blank lines between frames are tolerated.
                continue;
            }
            break;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("bad Content-Length `{}`", value.trim())),
                );
            }
        }
    }
    let length = match content_length {
        None => {
            return Ok(Some(Frame::BadHeader(
                "missing Content-Length header".into(),
            )))
        }
        Some(Err(e)) => return Ok(Some(Frame::BadHeader(e))),
        Some(Ok(n)) if n > MAX_FRAME_BYTES => {
            return Ok(Some(Frame::BadHeader(format!(
                "message of {n} bytes is over the limit of {MAX_FRAME_BYTES}"
            ))))
        }
        Some(Ok(n)) => n,
    };
    // Grows with what arrives: a header announcing more than is sent costs no memory.
    let mut body = Vec::with_capacity(length.min(1 << 20));
    (&mut *reader)
        .take(length as u64)
        .read_to_end(&mut body)
        .await?;
    if body.len() < length {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "the input ended after {} of the {length} bytes announced",
                body.len()
            ),
        ));
    }
    Ok(Some(Frame::Body(body)))
}

pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Checks a frame's body; `Err` holds the error response to send instead of forwarding it.
pub fn check_message(body: &[u8]) -> Result<(), Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Err(error_response(
                Value::Null,
                -32700,
                &format!("Parse error: {e}"),
            ))
        }
    };
    // JSON-RPC's shape first (tower-lsp-server would take `{"id": 1}` for a response), then
    // exactly what tower-lsp-server will decode, so that it never sees a frame it would stop on.
    // Its decoder reads the bytes (where a duplicated key is an error, unlike in a `Value`) and
    // tries a response before a request, so a request that would also pass for a response
    // (`"method"` together with `"result"`) would be taken for one and never answered.
    if is_json_rpc_shaped(&value) {
        let response = serde_json::from_slice::<Response>(body).is_ok();
        let decodes_as_shaped = if value.get("method").is_some() {
            !response && serde_json::from_slice::<Request>(body).is_ok()
        } else {
            response
        };
        if decodes_as_shaped {
            return Ok(());
        }
    }
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    Err(error_response(
        id,
        -32600,
        "Invalid request: not a JSON-RPC 2.0 request, notification or response",
    ))
}

/// A request or notification has a string `method`; a response has an `id` and exactly one of
/// `result` and `error`.
fn is_json_rpc_shaped(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    if object.get("jsonrpc") != Some(&Value::String("2.0".into())) {
        return false;
    }
    if object.contains_key("method") {
        return object["method"].is_string();
    }
    object.contains_key("id") && (object.contains_key("result") != object.contains_key("error"))
}

fn error_response(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Reads frames from `input` until it ends, forwarding good ones to `to_server` and sending
/// error answers for bad ones to `output`.
pub async fn pump_input<R, W>(input: R, mut to_server: W, output: mpsc::Sender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    loop {
        let frame = match read_frame(&mut reader).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                tracing::info!("input closed: {e}");
                break;
            }
        };
        match frame {
            Frame::Body(body) => match check_message(&body) {
                Ok(()) => {
                    if to_server.write_all(&encode_frame(&body)).await.is_err() {
                        break;
                    }
                    let _ = to_server.flush().await;
                }
                Err(answer) => {
                    tracing::warn!(
                        "malformed message from the client: {}",
                        answer["error"]["message"]
                    );
                    let _ = output
                        .send(encode_frame(answer.to_string().as_bytes()))
                        .await;
                }
            },
            Frame::BadHeader(why) => {
                tracing::warn!("malformed message header from the client: {why}");
                let answer = error_response(Value::Null, -32700, &format!("Parse error: {why}"));
                let _ = output
                    .send(encode_frame(answer.to_string().as_bytes()))
                    .await;
            }
        }
    }
    let _ = to_server.shutdown().await;
}

/// Reads whole frames the server wrote and queues them for output.
pub async fn pump_server_output<R: AsyncRead + Unpin>(
    from_server: R,
    output: mpsc::Sender<Vec<u8>>,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, from_server);
    while let Ok(Some(Frame::Body(body))) = read_frame(&mut reader).await {
        if output.send(encode_frame(&body)).await.is_err() {
            break;
        }
    }
}

/// Writes queued frames to stdout until every sender is gone.
pub async fn write_output<W: AsyncWrite + Unpin>(
    mut stdout: W,
    mut frames: mpsc::Receiver<Vec<u8>>,
) {
    while let Some(frame) = frames.recv().await {
        if stdout.write_all(&frame).await.is_err() || stdout.flush().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_read_with_any_header_case_and_extra_headers() {
        let input = b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}\r\nContent-Length: 3\r\n\r\n[1]".to_vec();
        let mut reader = BufReader::new(&input[..]);
        assert_eq!(
            read_frame(&mut reader).await.unwrap(),
            Some(Frame::Body(b"{}".to_vec()))
        );
        assert_eq!(
            read_frame(&mut reader).await.unwrap(),
            Some(Frame::Body(b"[1]".to_vec()))
        );
        assert_eq!(read_frame(&mut reader).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_missing_length_is_reported() {
        let input = b"X-Foo: 1\r\n\r\n".to_vec();
        let mut reader = BufReader::new(&input[..]);
        assert!(matches!(
            read_frame(&mut reader).await.unwrap(),
            Some(Frame::BadHeader(_))
        ));
    }

    #[tokio::test]
    async fn a_body_shorter_than_announced_is_an_error_not_a_frame() {
        // Announces 400 MB (under the limit) and sends 5 bytes.
        let input = b"Content-Length: 400000000\r\n\r\nhello".to_vec();
        let mut reader = BufReader::new(&input[..]);
        let error = read_frame(&mut reader).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(
            error.to_string().contains("5 of the 400000000 bytes"),
            "{error}"
        );
    }

    #[test]
    fn messages_are_checked_like_json_rpc() {
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
        let parse = check_message(b"{bad").unwrap_err();
        assert_eq!(parse["error"]["code"], -32700);
        assert_eq!(parse["id"], Value::Null);
        let invalid = check_message(br#"{"jsonrpc":"2.0","id":7,"params":{}}"#).unwrap_err();
        assert_eq!(invalid["error"]["code"], -32600);
        assert_eq!(invalid["id"], 7);
        assert!(check_message(br#"[{"jsonrpc":"2.0","method":"exit"}]"#).is_err());
    }

    #[test]
    fn a_request_that_would_be_decoded_as_something_else_is_answered_with_its_id() {
        // Found by fuzzing (`fuzz/`, target `jsonrpc`): tower-lsp-server decodes a request that
        // also has `result` as a response and never answers it, and reads a duplicated key as
        // an error it answers with a null id.
        for body in [
            &br#"{"jsonrpc":"2.0","id":5,"method":"shutdown","result":null}"#[..],
            br#"{"jsonrpc":"2.0","id":5,"method":"shutdown","error":{"code":1,"message":"m"}}"#,
            br#"{"jsonrpc":"2.0","id":5,"method":"shutdown","method":"shutdown"}"#,
            br#"{"jsonrpc":"2.0","id":5,"id":5,"method":"shutdown"}"#,
        ] {
            let answer = check_message(body).unwrap_err();
            assert_eq!(answer["error"]["code"], -32600);
            assert_eq!(answer["id"], 5);
        }
        assert!(check_message(br#"{"jsonrpc":"1.0","method":"exit"}"#).is_err());
    }
}
