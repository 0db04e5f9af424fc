//! Catches panics in handlers so that one bad request cannot take the server down.
//!
//! Wraps the whole `LspService`: a request whose handler panics is answered with an
//! `InternalError` naming the method; a notification whose handler panics is logged. Document
//! state stays consistent because the text-sync handlers build the new state before swapping
//! it in, and dashmap's locks are released (not poisoned) when a guard unwinds.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::FutureExt;
use tower::Service;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};

pub struct CatchPanic<S> {
    inner: S,
}

impl<S> CatchPanic<S> {
    pub fn new(inner: S) -> Self {
        CatchPanic { inner }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

impl<S> Service<Request> for CatchPanic<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Option<Response>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = req.id().cloned();
        let method = req.method().to_string();
        let answer_panic = move |payload: Box<dyn Any + Send>| {
            let message = panic_message(payload.as_ref());
            tracing::error!("handler for `{method}` panicked: {message}");
            id.map(|id| {
                Response::from_error(
                    id,
                    Error {
                        code: ErrorCode::InternalError,
                        message: format!("internal error while handling `{method}`: {message}")
                            .into(),
                        data: None,
                    },
                )
            })
        };
        // tower-lsp-server drops its `MethodNotFound` answer to every unknown `$/` method, but
        // the specification only lets a server ignore `$/` notifications: a request must get
        // that error, or the client waits for it forever.
        let unanswered_id = req.id().cloned().filter(|_| req.method().starts_with("$/"));
        let unanswered_method = req.method().to_string();
        // Building the future runs the router's parameter parsing, which could panic too.
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(fut) => async move {
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(Ok(None)) if unanswered_id.is_some() => Ok(unanswered_id.map(|id| {
                        Response::from_error(
                            id,
                            Error {
                                code: ErrorCode::MethodNotFound,
                                message: format!("unknown method `{unanswered_method}`").into(),
                                data: None,
                            },
                        )
                    })),
                    Ok(result) => result,
                    Err(payload) => Ok(answer_panic(payload)),
                }
            }
            .boxed(),
            Err(payload) => {
                let response = answer_panic(payload);
                async move { Ok(response) }.boxed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::jsonrpc::Id;
    use tower_lsp_server::ls_types::*;
    use tower_lsp_server::{LanguageServer, LspService};

    struct Panicky;

    impl LanguageServer for Panicky {
        async fn initialize(
            &self,
            _: InitializeParams,
        ) -> tower_lsp_server::jsonrpc::Result<InitializeResult> {
            Ok(InitializeResult::default())
        }
        async fn shutdown(&self) -> tower_lsp_server::jsonrpc::Result<()> {
            Ok(())
        }
        async fn hover(&self, _: HoverParams) -> tower_lsp_server::jsonrpc::Result<Option<Hover>> {
            panic!("boom in hover")
        }
    }

    fn request(method: &str, id: Option<i64>, params: serde_json::Value) -> Request {
        let builder = Request::build(method.to_string()).params(params);
        match id {
            Some(id) => builder.id(id).finish(),
            None => builder.finish(),
        }
    }

    #[tokio::test]
    async fn a_panicking_request_gets_an_internal_error_and_the_service_goes_on() {
        let (service, _socket) = LspService::new(|_| Panicky);
        let mut service = CatchPanic::new(service);
        let init = request(
            "initialize",
            Some(1),
            serde_json::json!({"capabilities": {}}),
        );
        let response = service.call(init).await.unwrap().unwrap();
        assert!(response.is_ok());

        let hover = request(
            "textDocument/hover",
            Some(2),
            serde_json::json!({
                "textDocument": {"uri": "file:///a.py"},
                "position": {"line": 0, "character": 0}
            }),
        );
        let response = service.call(hover.clone()).await.unwrap().unwrap();
        assert_eq!(response.id(), &Id::Number(2));
        let error = response.error().expect("an error response");
        assert_eq!(error.code, ErrorCode::InternalError);
        assert!(error.message.contains("boom in hover"), "{}", error.message);

        // The service still answers afterwards.
        let again = request(
            "textDocument/hover",
            Some(3),
            serde_json::json!({
                "textDocument": {"uri": "file:///a.py"},
                "position": {"line": 0, "character": 0}
            }),
        );
        let response = service.call(again).await.unwrap().unwrap();
        assert_eq!(response.id(), &Id::Number(3));
        // Found by fuzzing (`fuzz/`, target `jsonrpc`): tower-lsp-server leaves an unknown `$/`
        // request unanswered; it gets `MethodNotFound`, and the notification nothing.
        let response = service
            .call(request("$/fuzz", Some(5), serde_json::Value::Null))
            .await
            .unwrap()
            .expect("an answer");
        assert_eq!(response.id(), &Id::Number(5));
        assert_eq!(response.error().unwrap().code, ErrorCode::MethodNotFound);
        let none = service
            .call(request("$/fuzz", None, serde_json::Value::Null))
            .await
            .unwrap();
        assert!(none.is_none());
        let shutdown = request("shutdown", Some(4), serde_json::Value::Null);
        let response = service.call(shutdown).await.unwrap().unwrap();
        assert!(response.is_ok());
    }
}
