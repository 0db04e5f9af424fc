//! A fast estimate of how many tokens a model's tokenizer makes of a text, without a
//! vocabulary.
//!
//! Byte-pair tokenizers such as OpenAI's `cl100k_base` and `o200k_base` first cut text into
//! pieces with a regular expression (runs of letters with at most one character before them,
//! groups of up to three digits, runs of punctuation, runs of whitespace) and then split each
//! piece into vocabulary entries. In code almost every piece is one token; long or unusual
//! words and non-ASCII text are split further. The estimate cuts text the same way and
//! charges each piece by its shape, with weights fitted on Python source (see
//! `docs/context.md` for the method and the measured error).
//!
//! The estimate is additive over lines: the cost of a text is the sum of the costs of its
//! lines (each with its `\n`), kept in fixed-point units and rounded once at the end. That is
//! what lets the repo map add lines to a budget and know the exact estimate of the result.

/// Fixed-point units per token: costs are kept as integers so that sums are exact and do
/// not depend on the order of addition.
pub(crate) const UNITS_PER_TOKEN: u64 = 1000;

/// The estimated number of tokens in `text`.
pub fn estimate_tokens(text: &str) -> usize {
    tokens_from_units(units(text))
}

/// The estimated cost of `text` in units. `units(a) + units(b) == units(a + b)` whenever `a`
/// is empty or ends with `\n`.
pub(crate) fn units(text: &str) -> u64 {
    let mut chars = Vec::new();
    text.split_inclusive('\n')
        .map(|line| line_units(line, &mut chars))
        .sum()
}

/// Rounds a sum of units to the nearest whole number of tokens; any non-empty text is at
/// least one token.
pub(crate) fn tokens_from_units(units: u64) -> usize {
    let rounded = (units + UNITS_PER_TOKEN / 2) / UNITS_PER_TOKEN;
    let tokens = if units > 0 { rounded.max(1) } else { 0 };
    usize::try_from(tokens).unwrap_or(usize::MAX)
}

/// Weights, in units, of the features `features` counts on a line.
const WEIGHTS: [u64; FEATURES] = [
    1010, // 0 a word or subword
    270,  // 1 each ASCII letter of a subword beyond `LONG_WORD`, unless it looks like a word
    80,   // 2 each ASCII letter of a word-like subword beyond `LONG_WORD`
    110,  // 3 each letter of an all-capitals subword beyond `LONG_CAPITALS`
    1130, // 4 a run of punctuation
    20,   // 5 each character of a punctuation run beyond the first
    1500, // 6 a group of up to three digits
    680,  // 7 a run of spaces that is not a single separator
    1190, // 8 a line break after a word or digit
    490,  // 9 a line break after punctuation
    0,    // 10 a blank line
    350,  // 11 a non-ASCII character of two bytes in UTF-8 (accented Latin, Greek, Cyrillic)
    700,  // 12 a non-ASCII character of three bytes (CJK, most symbols)
    1500, // 13 a non-ASCII character of four bytes (emoji)
];

const FEATURES: usize = 14;

/// Subwords up to this many letters are usually one token.
const LONG_WORD: usize = 6;
/// Runs of capitals (`TCSAFLUSH`) split into shorter pieces than words do.
const LONG_CAPITALS: usize = 3;

/// The cost of one line; `chars` is scratch space reused from line to line.
fn line_units(line: &str, chars: &mut Vec<char>) -> u64 {
    chars.clear();
    chars.extend(line.chars());
    let f = features(chars);
    f.iter()
        .zip(WEIGHTS)
        .map(|(count, weight)| count * weight)
        .sum()
}

/// What a character is for the purpose of cutting text into pieces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    Space,
    Newline,
    Punctuation,
}

fn class(c: char) -> Class {
    if c.is_ascii_alphabetic() {
        Class::Letter
    } else if c.is_ascii_digit() {
        Class::Digit
    } else if c == '\n' || c == '\r' {
        Class::Newline
    } else if c == ' ' || c == '\t' {
        Class::Space
    } else if c.is_ascii() {
        Class::Punctuation
    } else if c.is_alphabetic() {
        Class::Letter
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_whitespace() {
        Class::Space
    } else {
        Class::Punctuation
    }
}

/// Counts the features of one line (which ends with its `\n`, if it has one).
fn features(chars: &[char]) -> [u64; FEATURES] {
    let mut f = [0u64; FEATURES];
    let mut i = 0;
    // The class of the last piece, to price the line break after it.
    let mut last: Option<Class> = None;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match class(c) {
            Class::Letter => {
                while i < chars.len() && class(chars[i]) == Class::Letter {
                    i += 1;
                }
                word(&chars[start..i], &mut f);
                last = Some(Class::Letter);
            }
            Class::Digit => {
                while i < chars.len() && class(chars[i]) == Class::Digit {
                    i += 1;
                }
                f[6] += (i - start).div_ceil(3) as u64;
                non_ascii(&chars[start..i], &mut f);
                last = Some(Class::Digit);
            }
            Class::Space => {
                while i < chars.len() && class(chars[i]) == Class::Space {
                    i += 1;
                }
                let next = chars.get(i).map(|&c| class(c));
                // A single space before a word or punctuation joins that piece; longer runs
                // (indentation, alignment) leave one space to it and are a piece of their own.
                let run = i - start;
                if run > 1 || next.is_none() || next == Some(Class::Newline) {
                    f[7] += 1;
                }
            }
            Class::Newline => {
                while i < chars.len() && class(chars[i]) == Class::Newline {
                    i += 1;
                }
                match last {
                    Some(Class::Letter | Class::Digit) => f[8] += 1,
                    Some(_) => f[9] += 1,
                    None => f[10] += 1,
                }
            }
            Class::Punctuation => {
                while i < chars.len() && class(chars[i]) == Class::Punctuation {
                    i += 1;
                }
                let run = i - start;
                let next_is_letter = chars.get(i).is_some_and(|&c| class(c) == Class::Letter);
                // One punctuation character right before a word joins the word (`.append`,
                // `(self`, `_items`).
                if !(run == 1 && next_is_letter) {
                    f[4] += 1;
                    f[5] += (run - 1) as u64;
                }
                non_ascii(&chars[start..i], &mut f);
                last = Some(Class::Punctuation);
            }
        }
    }
    f
}

/// Counts a run of letters: one piece per subword, where a subword starts at a change from
/// lower to upper case (`PriceBreakdown`) or before the last capital of a run of capitals
/// followed by a lower-case letter (`HTTPServer`), plus the letters of long subwords.
fn word(letters: &[char], f: &mut [u64; FEATURES]) {
    let mut start = 0;
    for i in 1..=letters.len() {
        let boundary = i == letters.len() || {
            let (prev, cur) = (letters[i - 1], letters[i]);
            let next_lower = letters.get(i + 1).is_some_and(|c| c.is_lowercase());
            (prev.is_lowercase() && cur.is_uppercase())
                || (prev.is_uppercase() && cur.is_uppercase() && next_lower)
        };
        if boundary {
            let subword = &letters[start..i];
            // Non-ASCII letters are charged one by one instead (see `non_ascii`).
            let ascii = subword.iter().filter(|c| c.is_ascii()).count();
            let beyond = |limit: usize| ascii.saturating_sub(limit) as u64;
            f[0] += 1;
            if subword.len() > 1 && subword.iter().all(|c| c.is_uppercase()) {
                f[3] += beyond(LONG_CAPITALS);
            } else if looks_like_a_word(subword) {
                f[2] += beyond(LONG_WORD);
            } else {
                f[1] += beyond(LONG_WORD);
            }
            start = i;
        }
    }
    non_ascii(letters, f);
}

/// Whether a subword has the vowels of an English word (`configuration`) rather than being
/// a run of abbreviations (`tcgetattr`), which splits into more pieces.
fn looks_like_a_word(letters: &[char]) -> bool {
    let vowels = letters
        .iter()
        .filter(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
        .count();
    vowels * 10 >= letters.len() * 3
}

fn non_ascii(chars: &[char], f: &mut [u64; FEATURES]) {
    for c in chars {
        match c.len_utf8() {
            1 => {}
            2 => f[11] += 1,
            3 => f[12] += 1,
            _ => f[13] += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python source from the example project, and snippets of what else ends up in
    /// prompts: prose, non-ASCII text, long identifiers.
    const SAMPLES: &[(&str, &str)] = &[
        (
            "shop/__init__.py",
            include_str!("../../../examples/shop/src/shop/__init__.py"),
        ),
        (
            "shop/cart.py",
            include_str!("../../../examples/shop/src/shop/cart.py"),
        ),
        (
            "shop/cli.py",
            include_str!("../../../examples/shop/src/shop/cli.py"),
        ),
        (
            "shop/errors.py",
            include_str!("../../../examples/shop/src/shop/errors.py"),
        ),
        (
            "shop/inventory.py",
            include_str!("../../../examples/shop/src/shop/inventory.py"),
        ),
        (
            "shop/models.py",
            include_str!("../../../examples/shop/src/shop/models.py"),
        ),
        (
            "shop/orders.py",
            include_str!("../../../examples/shop/src/shop/orders.py"),
        ),
        (
            "shop/payments.py",
            include_str!("../../../examples/shop/src/shop/payments.py"),
        ),
        (
            "shop/pricing.py",
            include_str!("../../../examples/shop/src/shop/pricing.py"),
        ),
        (
            "shop/utils.py",
            include_str!("../../../examples/shop/src/shop/utils.py"),
        ),
        ("prose", PROSE),
        ("non-ASCII", NON_ASCII),
        ("long identifiers", LONG_IDENTIFIERS),
    ];

    const PROSE: &str = "\
The cart keeps one line per product. Adding a product that is already in the cart
increases the quantity of its line instead of adding a second line, so that discounts
which apply per line (\"buy three, pay for two\") see the whole quantity at once.

When the customer checks out, the order is priced again from the catalogue: prices may
have changed since the product was added, and the customer must pay today's price. If a
product went out of stock in the meantime, checkout fails with a clear message naming it.
";

    const NON_ASCII: &str = "\
# Übersetzungen für die Benutzeroberfläche: Größe, Menge, Straße.
GREETINGS = {
    \"de\": \"Grüß Gott, schön dass Sie da sind!\",
    \"fr\": \"Bonjour, ça va très bien, merci beaucoup.\",
    \"es\": \"¿Qué tal? Mañana será otro día.\",
    \"ru\": \"Здравствуйте, как у вас дела сегодня?\",
    \"zh\": \"你好，欢迎光临我们的商店。\",
    \"ja\": \"いらっしゃいませ、ありがとうございます。\",
    \"emoji\": \"🛒 Cart ready ✅ — total: 42 € 🎉\",
}


def greet(language: str) -> str:
    \"\"\"Return the greeting for ``language`` — défaut: anglais.\"\"\"
    return GREETINGS.get(language, \"Hello!\")
";

    const LONG_IDENTIFIERS: &str = "\
class AbstractSingletonProxyFactoryBean(BaseConfigurationProviderMixin):
    def get_effective_configuration_for_environment(self, environment_name: str) -> dict:
        resolved_configuration_overrides = self._load_environment_specific_overrides(
            environment_name, include_inherited_defaults=True
        )
        return merge_configuration_dictionaries_recursively(
            self.default_configuration_values, resolved_configuration_overrides
        )

    def invalidate_cached_configuration_snapshot(self) -> None:
        self._cached_configuration_snapshot_by_environment.clear()
        HTTPConnectionPoolManager.reset_all_persistent_connections()
";

    #[test]
    fn empty_text_is_no_tokens_and_any_other_text_at_least_one() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("x"), 1);
        assert_eq!(estimate_tokens(" "), 1);
        assert_eq!(
            estimate_tokens("\n"),
            0,
            "a lone blank line costs nothing by itself"
        );
    }

    #[test]
    fn common_shapes() {
        // One word, one token.
        assert_eq!(estimate_tokens("return"), 1);
        // `PriceBreakdown` is two subwords; `(`, `)` and `:` are punctuation runs.
        assert_eq!(estimate_tokens("def total(self) -> PriceBreakdown:"), 9);
        // Digits go in groups of three.
        assert_eq!(estimate_tokens("1234567"), 5);
        // CJK text costs by the character.
        assert!(estimate_tokens("你好，欢迎光临我们的商店。") >= 10);
    }

    proptest::proptest! {
        /// The estimate of a text is the sum of the estimates of its lines, which is what the
        /// repo map relies on to add lines to a budget without estimating the whole again.
        #[test]
        fn units_add_up_over_lines(a in "[a-zA-Z_ (),:.=é😀你0-9\\n]{0,60}", b in "[a-zA-Z_ (),:.=é😀你0-9\\n]{0,60}") {
            let a = format!("{a}\n");
            proptest::prop_assert_eq!(units(&a) + units(&b), units(&format!("{a}{b}")));
        }
    }

    /// Every sample's estimate is within 15% of the real count of both tokenizers.
    #[test]
    fn estimates_are_within_fifteen_percent_of_real_tokenizers() {
        let tokenizers = [
            ("cl100k_base", tiktoken_rs::cl100k_base()),
            ("o200k_base", tiktoken_rs::o200k_base()),
        ];
        let mut failures = Vec::new();
        for (name, tokenizer) in &tokenizers {
            let tokenizer = match tokenizer {
                Ok(t) => t,
                Err(e) => panic!("the {name} vocabulary ships with tiktoken-rs: {e}"),
            };
            for (sample, text) in SAMPLES {
                let real = tokenizer.encode_ordinary(text).len();
                let estimate = estimate_tokens(text);
                let error = (estimate as f64 - real as f64) / real as f64;
                println!(
                    "{name:12} {sample:18} real {real:5} estimate {estimate:5} error {:+6.1}%",
                    error * 100.0
                );
                if error.abs() > 0.15 {
                    failures.push(format!("{name} {sample}: real {real}, estimate {estimate}"));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
