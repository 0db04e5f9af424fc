//! Structured output out of model text: `models::extract` finds the JSON in an answer and
//! `models::schema` validates it. Model output is untrusted, so on any text: no panic, at most
//! 16 candidates and each an object, and whatever `parse_answer` returns validates against the
//! schema again unchanged (validation is idempotent: it only fills absent nullable properties).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::models::extract::{json_candidates, parse_answer};
use tandem::models::SchemaName;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let schema = SchemaName::ALL[which as usize % SchemaName::ALL.len()];
    let text = String::from_utf8_lossy(rest);

    let candidates = json_candidates(&text);
    assert!(candidates.len() <= 16, "{} candidates", candidates.len());
    assert!(candidates.iter().all(|c| c.is_object()));

    match parse_answer(&text, schema) {
        Ok(value) => {
            let again = schema
                .validate(&value)
                .unwrap_or_else(|e| panic!("accepted answer fails {schema}: {e:?}\n{value}"));
            assert_eq!(again, value, "validation is not idempotent");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refusal without a reason");
            assert!(errors.len() <= 21, "{} errors", errors.len());
        }
    }
    // Every candidate either validates (and then stays valid) or is refused with reasons.
    for candidate in &candidates {
        match schema.validate(candidate) {
            Ok(value) => assert_eq!(schema.validate(&value).ok().as_ref(), Some(&value)),
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
});
