//! TDM002 (bare `except:`) and TDM003 (an exception swallowed by `except …: pass`).
//!
//! A bare `except:` also catches `KeyboardInterrupt` and `SystemExit`, so Ctrl-C and
//! `sys.exit()` stop working inside the `try`. Not reported: a handler that re-raises (a bare
//! `raise` anywhere in it: cleanup, or a context manager's `__exit__` deciding), ends the
//! process (`os._exit`, `sys.exit`), or captures or reports the exception it caught
//! (`sys.exc_info()`, `traceback.print_exc()`, `sys.excepthook(…)`, `logger.exception(…)`, as
//! debuggers and REPLs do to survive anything the user's code raises): those catch everything
//! on purpose. Nor is test code, where the consequence is confined to one test and the
//! construct is often what is tested.
//!
//! An `except` clause whose body is only `pass` or `...` makes failures invisible. Most such
//! clauses in real code are deliberate, so TDM003 reports only two shapes, measured on Django
//! and the standard library (see `docs/rules.md`):
//! - a catch-all (`except:`, `except Exception:`, `except BaseException:`), which hides every
//!   error, bugs included;
//! - one of the project's own `…Error` classes (defined in the file or imported with a relative
//!   import, `from .errors import PaymentError`) when the `try` only performs actions (call
//!   statements, like `gateway.refund(id)`) and has no `else`, outside cleanup functions
//!   (`close`, `quit`, `__del__`, …): one of the project's operations failed and nothing will
//!   know. Library errors (`TclError`, `DatabaseError`, `KeyError`, `OSError`, …) swallowed this
//!   way nearly always mean "not supported here" or "already gone" (measured: none of those
//!   sampled on Django and the standard library hid a failure), so they are not reported.
//!
//! A comment in the clause says the silence is deliberate, and then nothing is reported. Test
//! code is not checked: `except X: pass` is how a test tolerates an expected exception.

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{field, statements, Checker, Ctx, Field, Rule};
use crate::analysis::finding::{Finding, Fix};

pub(super) fn check(checker: &mut Checker<'_>, clause: Node<'_>, ctx: &Ctx) {
    let mut cursor = clause.walk();
    let children: Vec<Node<'_>> = clause.children(&mut cursor).collect();
    let Some(keyword) = children.first().filter(|k| k.kind_str() == "except") else {
        return;
    };
    let value = field(clause, Field::Value);
    let Some(block) = children.iter().rev().find(|c| c.kind_str() == "block") else {
        return;
    };
    let body = statements(*block);
    let header_end = value.map_or(keyword.end_byte(), |v| v.end_byte());

    if value.is_none()
        && checker.on(Rule::BareExcept)
        && !checker.opts.test_file
        && !reraises_or_exits(checker, *block, &body)
        && !earlier_handler_reraises(clause)
    {
        checker.report(
            Rule::BareExcept,
            "Bare `except:` also catches KeyboardInterrupt and SystemExit, so Ctrl-C and \
             `sys.exit()` stop working here; catch `Exception` or something narrower"
                .to_string(),
            keyword.byte_range(),
            Some(Fix::new(
                "Catch `Exception` instead",
                vec![(keyword.byte_range(), "except Exception".to_string())],
            )),
        );
    }

    if checker.on(Rule::ExceptionSwallowed)
        && !body.is_empty()
        && body.iter().all(|s| is_placeholder(checker, *s))
        && !has_comment(clause)
        && !has_comment(*block)
        && !checker.opts.test_file
    {
        let verdict = swallows_a_failure(checker, clause, value, ctx);
        if verdict == Verdict::Innocent {
            return;
        }
        let header = checker
            .source
            .get(keyword.start_byte()..header_end)
            .unwrap_or("except");
        let header = super::excerpt(header, 40);
        let finding = Finding::new(
            Rule::ExceptionSwallowed.code(),
            Rule::ExceptionSwallowed.severity(),
            format!(
                "`{header}: pass` swallows the exception: the failure leaves no trace; handle it, \
                 log it, or say in a comment why it is safe to ignore"
            ),
            keyword.start_byte()..header_end,
        );
        match verdict {
            Verdict::IfProjectError(names) => checker.swallowed.push((names, finding)),
            _ => checker.findings.push(finding),
        }
    }
}

/// Reports the swallowed errors whose classes turned out to be the project's own: defined in
/// the file or imported relatively (both learnt during the walk).
pub(super) fn finish(checker: &mut Checker<'_>) {
    let pending = std::mem::take(&mut checker.swallowed);
    for (names, finding) in pending {
        if names.iter().any(|n| checker.project_names.contains(n)) {
            checker.findings.push(finding);
        }
    }
}

/// Records the names a relative import brings in (`from .errors import A, B as C`).
pub(super) fn learn_import<'s>(checker: &mut Checker<'s>, import: Node<'_>) {
    let relative =
        field(import, Field::ModuleName).is_some_and(|m| m.kind_str() == "relative_import");
    if !relative {
        return;
    }
    let mut cursor = import.walk();
    let names: Vec<Node<'_>> = import.children_by_field_name("name", &mut cursor).collect();
    for name in names {
        let bound = match name.kind_str() {
            "aliased_import" => field(name, Field::Alias),
            _ => Some(name),
        };
        if let Some(text) = bound.and_then(|b| checker.source.get(b.byte_range())) {
            checker.project_names.insert(text);
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict<'s> {
    Innocent,
    Swallows,
    /// Swallows if one of these classes is the project's own.
    IfProjectError(Vec<&'s str>),
}

/// Exceptions that usually signal an expected outcome ("absent", "not now", "done"), which an
/// `except …: pass` deliberately ignores.
const EXPECTED_EXCEPTIONS: &[&str] = &[
    "KeyError",
    "IndexError",
    "LookupError",
    "AttributeError",
    "ImportError",
    "ModuleNotFoundError",
    "NameError",
    "StopIteration",
    "StopAsyncIteration",
    "GeneratorExit",
    "CancelledError",
    "TimeoutError",
    "OSError",
    "IOError",
    "EnvironmentError",
    "FileNotFoundError",
    "FileExistsError",
    "NotADirectoryError",
    "IsADirectoryError",
    "PermissionError",
    "ProcessLookupError",
    "ChildProcessError",
    "BlockingIOError",
    "InterruptedError",
    "BrokenPipeError",
    "ConnectionError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "ValueError",
    "UnicodeError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "NotImplementedError",
    "UnsupportedOperation",
    "EOFError",
    "OverflowError",
    "DoesNotExist",
    "ObjectDoesNotExist",
    "KeyboardInterrupt",
];

/// Functions whose job is best-effort cleanup, where a failing step is ignored on purpose.
const CLEANUP_FUNCTIONS: &[&str] = &[
    "close",
    "del__",
    "exit__",
    "quit",
    "cleanup",
    "shutdown",
    "destroy",
    "teardown",
    "tearDown",
    "stop",
    "terminate",
    "kill",
    "release",
    "dispose",
    "disconnect",
];

/// Whether an `except …: pass` hides a failure (see the module comment).
fn swallows_a_failure<'s>(
    checker: &Checker<'s>,
    clause: Node<'_>,
    value: Option<Node<'_>>,
    ctx: &Ctx,
) -> Verdict<'s> {
    let names = caught_names(checker, value);
    if names.is_empty()
        || names
            .iter()
            .any(|n| matches!(*n, "Exception" | "BaseException"))
    {
        return Verdict::Swallows;
    }
    let errors: Vec<&str> = names
        .into_iter()
        .filter(|n| !EXPECTED_EXCEPTIONS.contains(n) && n.ends_with("Error"))
        .collect();
    if errors.is_empty() {
        return Verdict::Innocent;
    }
    let function = ctx
        .function_name
        .and_then(|(start, end)| checker.source.get(start..end))
        .unwrap_or("");
    if CLEANUP_FUNCTIONS.contains(&function.trim_start_matches('_')) {
        return Verdict::Innocent;
    }
    // The `try` the clause belongs to: its body must only perform actions, and it must have
    // no `else` (an `else` makes the exception the expected path and the success the other).
    let Some(try_stmt) = clause.parent().filter(|p| p.kind_str() == "try_statement") else {
        return Verdict::Innocent;
    };
    let mut cursor = try_stmt.walk();
    if try_stmt
        .named_children(&mut cursor)
        .any(|c| c.kind_str() == "else_clause")
    {
        return Verdict::Innocent;
    }
    let Some(body) = field(try_stmt, Field::Body) else {
        return Verdict::Innocent;
    };
    let stmts = statements(body);
    if !stmts.is_empty() && stmts.iter().all(|s| is_action(*s)) {
        Verdict::IfProjectError(errors)
    } else {
        Verdict::Innocent
    }
}

/// The last names of the caught classes (`except (a.B, C) as e` -> `B`, `C`); empty for a bare
/// `except:`.
fn caught_names<'s>(checker: &Checker<'s>, value: Option<Node<'_>>) -> Vec<&'s str> {
    let Some(mut value) = value else {
        return Vec::new();
    };
    if value.kind_str() == "as_pattern" {
        match value.named_child(0) {
            Some(inner) => value = inner,
            None => return vec!["?"],
        }
    }
    let mut cursor = value.walk();
    let parts: Vec<Node<'_>> = if matches!(value.kind_str(), "tuple" | "parenthesized_expression") {
        value.named_children(&mut cursor).collect()
    } else {
        vec![value]
    };
    parts
        .into_iter()
        .map(|p| {
            let text = checker.text(p);
            text.rsplit('.').next().unwrap_or(text).trim()
        })
        .collect()
}

/// A statement that performs an action: a call (or an awaited call) as a statement.
fn is_action(stmt: Node<'_>) -> bool {
    if stmt.kind_str() != "expression_statement" || stmt.named_child_count() != 1 {
        return false;
    }
    let Some(mut expr) = stmt.named_child(0) else {
        return false;
    };
    if expr.kind_str() == "await" {
        match expr.named_child(0) {
            Some(inner) => expr = inner,
            None => return false,
        }
    }
    expr.kind_str() == "call"
}

/// A call that captures or reports the exception being handled: `sys.exc_info()`,
/// `traceback.print_exc()`, `format_exc()`, `sys.excepthook(…)`, `logger.exception(…)`, or a
/// helper named like them (`self._error_exc()`).
fn reports_the_exception(checker: &Checker<'_>, call: Node<'_>) -> bool {
    let Some(function) = field(call, Field::Function) else {
        return false;
    };
    let text = checker.text(function);
    let name = text.rsplit('.').next().unwrap_or(text);
    name.ends_with("exc")
        || name.ends_with("exc_info")
        || name.ends_with("excepthook")
        || name == "exception"
}

/// Whether an earlier `except` of the same `try` only re-raises (`except SystemExit: raise`):
/// the author routed the exceptions that matter before the catch-all.
fn earlier_handler_reraises(clause: Node<'_>) -> bool {
    let mut sibling = clause.prev_named_sibling();
    while let Some(earlier) = sibling {
        if earlier.kind_str() != "except_clause" {
            break;
        }
        let mut cursor = earlier.walk();
        let block = earlier
            .children(&mut cursor)
            .filter(|c| c.kind_str() == "block")
            .last();
        if let Some(block) = block {
            let body = statements(block);
            if body.len() == 1
                && body[0].kind_str() == "raise_statement"
                && body[0].named_child_count() == 0
            {
                return true;
            }
        }
        sibling = earlier.prev_named_sibling();
    }
    false
}

/// Whether a handler re-raises (a bare `raise` anywhere in it, nested functions aside) or ends
/// with a call that ends the process.
fn reraises_or_exits(checker: &Checker<'_>, block: Node<'_>, body: &[Node<'_>]) -> bool {
    let exits = body.last().is_some_and(|last| {
        let text = checker.text(*last);
        [
            "os._exit(",
            "_exit(",
            "sys.exit(",
            "exit(",
            "raise SystemExit",
        ]
        .iter()
        .any(|p| text.starts_with(p))
    });
    if exits {
        return true;
    }
    let mut stack = vec![block];
    while let Some(node) = stack.pop() {
        match node.kind_str() {
            "raise_statement" if node.named_child_count() == 0 => return true,
            "call" if reports_the_exception(checker, node) => return true,
            "function_definition" | "class_definition" | "lambda" => continue,
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(
            node.named_children(&mut cursor)
                .filter(|c| c.child_count() > 0),
        );
    }
    false
}

/// `pass` or `...`.
fn is_placeholder(checker: &Checker<'_>, stmt: Node<'_>) -> bool {
    match stmt.kind_str() {
        "pass_statement" => true,
        "expression_statement" => checker.text(stmt).trim() == "...",
        _ => false,
    }
}

fn has_comment(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .any(|c| c.kind_str() == "comment");
    found
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, fixed, flagged};

    #[test]
    fn a_bare_except_is_reported_with_a_fix() {
        let source = "try:\n    x = int(s)\nexcept:\n    x = 1\n";
        assert_eq!(flagged("TDM002", source), ["except"]);
        assert!(findings("TDM002", source)[0]
            .message
            .contains("KeyboardInterrupt"));
        assert_eq!(
            fixed("TDM002", source),
            "try:\n    x = int(s)\nexcept Exception:\n    x = 1\n"
        );
    }

    #[test]
    fn typed_excepts_and_cleanup_that_reraises_are_not_bare_excepts() {
        let source = "try:\n    f()\nexcept ValueError:\n    g()\nexcept* OSError:\n    g()\n";
        assert!(flagged("TDM002", source).is_empty());
        let cleanup = "try:\n    f()\nexcept:\n    rollback()\n    raise\n";
        assert!(flagged("TDM002", cleanup).is_empty());
        let deciding =
            "try:\n    f()\nexcept:\n    if not self.__exit__(*sys.exc_info()):\n        raise\n";
        assert!(flagged("TDM002", deciding).is_empty());
        let child =
            "try:\n    os.execve(path, args, env)\nexcept:\n    report()\n    os._exit(127)\n";
        assert!(flagged("TDM002", child).is_empty());
        let routed = "try:\n    f()\nexcept (SystemExit, KeyboardInterrupt):\n    raise\nexcept:\n    report()\n";
        assert!(flagged("TDM002", routed).is_empty());
        let reporting = "try:\n    exec(code, ns)\nexcept:\n    self.user_exc_info = sys.exc_info()\n    show()\n";
        assert!(flagged("TDM002", reporting).is_empty());
        let logged = "try:\n    run()\nexcept:\n    logger.exception('run failed')\n";
        assert!(flagged("TDM002", logged).is_empty());
    }

    #[test]
    fn except_with_only_pass_or_ellipsis_is_reported() {
        let source = "from .errors import PaymentError, Other as AError\ntry:\n    gateway.refund(order.transaction_id)\nexcept PaymentError:\n    pass\ntry:\n    f()\nexcept (lib.AError, BError) as e:\n    ...\n";
        assert_eq!(
            flagged("TDM003", source),
            ["except PaymentError", "except (lib.AError, BError) as e"]
        );
        let message = &findings("TDM003", source)[0].message;
        assert!(
            message.starts_with("`except PaymentError: pass` swallows the exception"),
            "{message}"
        );
        // A bare `except: pass` is both bare and swallowed.
        let codes: Vec<String> = findings("TDM00", "try:\n    f()\nexcept:\n    pass\n")
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, ["TDM002", "TDM003"]);
    }

    #[test]
    fn expected_exceptions_lookups_and_try_else_are_not_reported() {
        for source in [
            "try:\n    del cache[key]\nexcept KeyError:\n    pass\n",
            "try:\n    os.unlink(path)\nexcept (FileNotFoundError, PermissionError):\n    pass\n",
            "try:\n    site = Site.objects.get(pk=1)\nexcept Site.DoesNotExist:\n    pass\n",
            "try:\n    code = self.docmd('quit')\nexcept SMTPServerDisconnected:\n    pass\n",
            "try:\n    parser.Parse(text)\nexcept ParseEscape:\n    pass\n",
            "def close(self):\n    try:\n        self.sock.shutdown()\n    except SocketError:\n        pass\n",
            "try:\n    return IPv4Interface(address)\nexcept AddressValueError:\n    pass\n",
            "try:\n    parse(x)\nexcept ParseError:\n    pass\nelse:\n    fail('no error')\n",
        ] {
            assert!(flagged("TDM003", source).is_empty(), "{source}");
        }
        let catch_all = "try:\n    x = compute()\nexcept Exception:\n    pass\n";
        assert_eq!(flagged("TDM003", catch_all), ["except Exception"]);
        let awaited = "try:\n    await client.send()\nexcept ClientError:\n    ...\nclass ClientError(Exception):\n    pass\n";
        assert_eq!(flagged("TDM003", awaited), ["except ClientError"]);
        let library_error = "from tkinter import TclError\ntry:\n    widget.mark_unset(MARK)\nexcept TclError:\n    pass\n";
        assert!(flagged("TDM003", library_error).is_empty());
    }

    #[test]
    fn handled_or_explained_exceptions_are_not_reported() {
        let handled = "try:\n    f()\nexcept KeyError:\n    log()\n";
        let explained =
            "try:\n    f()\nexcept KeyError:\n    # Missing keys are fine here.\n    pass\n";
        let inline = "try:\n    f()\nexcept KeyError:  # already gone\n    pass\n";
        let trailing = "try:\n    f()\nexcept KeyError:\n    pass  # already gone\n";
        for source in [handled, explained, inline, trailing] {
            assert!(flagged("TDM003", source).is_empty(), "{source}");
        }
    }
}
