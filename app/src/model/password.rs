//! The password rules of the manual's Cybersecurity appendix, item 1.
//!
//! One pure function used by the browser (as you type) and by the server
//! (authoritative). The message of each rule names the rule.

use serde::{Deserialize, Serialize};

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted: long enough for pass phrases, short enough
/// that hashing a request body cannot be used to load the device.
pub const MAX_LEN: usize = 128;

/// One password rule that a candidate breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordRule {
    /// Fewer than [`MIN_LEN`] characters.
    TooShort,
    /// More than [`MAX_LEN`] characters.
    TooLong,
    /// Fewer than two kinds of upper case, lower case, digits, symbols.
    OneKind,
    /// Contains the user name (any case).
    ContainsUserName,
    /// Contains the user name reversed (any case).
    ContainsUserNameReversed,
    /// A run of three consecutive characters such as `123`, `abc`, `cba`.
    Sequence(String),
    /// Three identical characters in a row such as `111`, `aaa`.
    Repeated(String),
}

impl PasswordRule {
    /// The message shown to the user; it names the rule that failed.
    pub fn message(&self, user: &str) -> String {
        match self {
            Self::TooShort => format!("At least {MIN_LEN} characters"),
            Self::TooLong => format!("At most {MAX_LEN} characters"),
            Self::OneKind => {
                "At least two kinds of: upper case, lower case, digits, symbols".to_string()
            }
            Self::ContainsUserName => {
                format!("Must not contain the user name \u{201c}{user}\u{201d}")
            }
            Self::ContainsUserNameReversed => {
                let rev: String = user.chars().rev().collect();
                format!("Must not contain the user name in reverse (\u{201c}{rev}\u{201d})")
            }
            Self::Sequence(s) => format!(
                "No 3 consecutive characters such as 123, abc or cba (found \u{201c}{s}\u{201d})"
            ),
            Self::Repeated(s) => format!(
                "No 3 identical characters in a row such as 111 or aaa (found \u{201c}{s}\u{201d})"
            ),
        }
    }
}

/// The rules as a checklist for the UI: (rule label, passed?).
pub fn checklist(user: &str, password: &str) -> Vec<(&'static str, bool)> {
    let broken = check(user, password);
    let has = |f: fn(&PasswordRule) -> bool| broken.iter().any(f);
    vec![
        (
            "8 to 128 characters",
            !has(|r| matches!(r, PasswordRule::TooShort | PasswordRule::TooLong)),
        ),
        (
            "Two kinds of: upper case, lower case, digits, symbols",
            !has(|r| matches!(r, PasswordRule::OneKind)),
        ),
        (
            "Not the user name, nor the user name reversed",
            !has(|r| {
                matches!(
                    r,
                    PasswordRule::ContainsUserName | PasswordRule::ContainsUserNameReversed
                )
            }),
        ),
        (
            "No 3 consecutive characters (123, abc, cba)",
            !has(|r| matches!(r, PasswordRule::Sequence(_))),
        ),
        (
            "No 3 identical characters in a row (111, aaa)",
            !has(|r| matches!(r, PasswordRule::Repeated(_))),
        ),
    ]
}

/// Every rule `password` breaks for account `user`, in the order of the
/// appendix. Empty means the password is acceptable.
pub fn check(user: &str, password: &str) -> Vec<PasswordRule> {
    let mut broken = Vec::new();
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_LEN {
        broken.push(PasswordRule::TooShort);
    }
    if chars.len() > MAX_LEN {
        broken.push(PasswordRule::TooLong);
    }
    if kinds(&chars) < 2 {
        broken.push(PasswordRule::OneKind);
    }
    let lower = password.to_lowercase();
    let user_lower = user.to_lowercase();
    if !user_lower.is_empty() {
        let reversed: String = user_lower.chars().rev().collect();
        if lower.contains(&user_lower) {
            broken.push(PasswordRule::ContainsUserName);
        } else if lower.contains(&reversed) {
            broken.push(PasswordRule::ContainsUserNameReversed);
        }
    }
    if let Some(run) = find_run(&chars, is_sequence) {
        broken.push(PasswordRule::Sequence(run));
    }
    if let Some(run) = find_run(&chars, |a, b, c| a == b && b == c) {
        broken.push(PasswordRule::Repeated(run));
    }
    broken
}

/// The first rule broken, for a one-line error.
pub fn first_error(user: &str, password: &str) -> Option<PasswordRule> {
    check(user, password).into_iter().next()
}

fn kinds(chars: &[char]) -> usize {
    let upper = chars.iter().any(|c| c.is_uppercase());
    let lower = chars.iter().any(|c| c.is_lowercase());
    let digit = chars.iter().any(|c| c.is_numeric());
    // Anything that is not a letter or digit, a space included, is a symbol.
    let symbol = chars.iter().any(|c| !c.is_alphanumeric());
    [upper, lower, digit, symbol].iter().filter(|k| **k).count()
}

fn find_run(chars: &[char], pred: impl Fn(char, char, char) -> bool) -> Option<String> {
    chars
        .windows(3)
        .find(|w| pred(w[0], w[1], w[2]))
        .map(|w| w.iter().collect())
}

/// `123`, `abc`, `CBA`, `xyZ`: three letters or three digits whose codes
/// step by one in the same direction (case does not matter).
fn is_sequence(a: char, b: char, c: char) -> bool {
    let same_class = (a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit())
        || (a.is_ascii_alphabetic() && b.is_ascii_alphabetic() && c.is_ascii_alphabetic());
    if !same_class {
        return false;
    }
    let (a, b, c) = (
        a.to_ascii_lowercase() as i32,
        b.to_ascii_lowercase() as i32,
        c.to_ascii_lowercase() as i32,
    );
    let step = b - a;
    (step == 1 || step == -1) && c - b == step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(p: &str) -> Vec<PasswordRule> {
        check("admin", p)
    }

    #[test]
    fn strong_passwords_pass() {
        for p in [
            "Door-Bell7",
            "vto#Gate42x",
            "Zq8!mPw2",
            "correct horse battery staple",
        ] {
            assert_eq!(rules(p), vec![], "{p}");
        }
    }

    #[test]
    fn length_limits() {
        assert_eq!(rules("Ab1!x9z"), vec![PasswordRule::TooShort]);
        assert!(rules("Ab1!x9zq").is_empty());
        let long: String = "aZ8!".repeat(33);
        assert_eq!(rules(&long), vec![PasswordRule::TooLong]);
        // Characters, not bytes: 8 accented letters with a digit is fine.
        assert!(rules("éàüöçñî4").is_empty());
    }

    #[test]
    fn needs_two_kinds() {
        assert_eq!(rules("qwertzuiop"), vec![PasswordRule::OneKind]);
        assert_eq!(rules("QWERTZUIOP"), vec![PasswordRule::OneKind]);
        assert_eq!(rules("93751864"), vec![PasswordRule::OneKind]);
        assert_eq!(rules("!#%&!#%&"), vec![PasswordRule::OneKind]);
        assert!(rules("qwertzuiO").is_empty());
        assert!(rules("9375186#").is_empty());
        assert!(rules("qwer tzui").is_empty(), "a space counts as a symbol");
    }

    #[test]
    fn user_name_and_reverse() {
        assert_eq!(rules("myADMIN#42"), vec![PasswordRule::ContainsUserName]);
        assert_eq!(
            rules("x9NIMDA-yz"),
            vec![PasswordRule::ContainsUserNameReversed]
        );
        assert!(check("", "Door-Bell7").is_empty());
    }

    #[test]
    fn sequences_either_direction_any_case() {
        assert_eq!(
            rules("Gate123!x"),
            vec![PasswordRule::Sequence("123".into())]
        );
        assert_eq!(
            rules("Gate-CbA9"),
            vec![PasswordRule::Sequence("CbA".into())]
        );
        assert_eq!(
            rules("Q987w!tz"),
            vec![PasswordRule::Sequence("987".into())]
        );
        // Mixed classes and gaps are not sequences.
        assert!(
            rules("Gate9ab!x").is_empty(),
            "9ab mixes digits and letters"
        );
        assert!(rules("Gz1b3d5!").is_empty());
        assert!(rules("Xy1!Xz8?").is_empty());
    }

    #[test]
    fn repeated_characters() {
        assert_eq!(
            rules("Door111x!"),
            vec![PasswordRule::Repeated("111".into())]
        );
        assert_eq!(
            rules("Doo!!!r7"),
            vec![PasswordRule::Repeated("!!!".into())]
        );
        assert!(rules("Dooor!7x").contains(&PasswordRule::Repeated("ooo".into())));
        assert!(
            rules("DoOo!r7x").is_empty(),
            "case makes characters different"
        );
    }

    #[test]
    fn messages_name_the_rule() {
        assert!(PasswordRule::TooShort
            .message("admin")
            .contains("8 characters"));
        assert!(PasswordRule::ContainsUserNameReversed
            .message("admin")
            .contains("nimda"));
        assert!(PasswordRule::Sequence("abc".into())
            .message("admin")
            .contains("abc"));
    }

    #[test]
    fn checklist_matches_check() {
        let list = checklist("admin", "aaa");
        assert_eq!(list.len(), 5);
        assert!(!list[0].1 && !list[1].1 && list[2].1 && list[3].1 && !list[4].1);
        assert!(checklist("admin", "Door-Bell7").iter().all(|(_, ok)| *ok));
    }
}
