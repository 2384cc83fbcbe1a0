//! Email address validation for the reset address (manual ch. 1 step 4).
//!
//! Deliberately pragmatic: what a mail server would accept as `local@domain`,
//! without quoted local parts or address literals.

/// Why an address was refused, as shown next to the field.
pub fn validate(address: &str) -> Result<(), &'static str> {
    let address = address.trim();
    if address.is_empty() {
        return Err("Enter an email address");
    }
    if address.len() > 254 {
        return Err("An email address has at most 254 characters");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err("An email address looks like name@example.com");
    };
    if local.is_empty() || local.len() > 64 {
        return Err("The part before @ must have 1 to 64 characters");
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("The part before @ has a character that is not allowed");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("The domain after @ needs a dot, as in example.com");
    }
    let labels_ok = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !labels_ok {
        return Err("The domain after @ is not a valid host name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_common_addresses() {
        for a in [
            "owner@example.com",
            "a.b+vto@mail.example.co.uk",
            "x@a-b.io",
            " x@y.org ",
        ] {
            assert_eq!(validate(a), Ok(()), "{a}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for a in [
            "",
            "owner",
            "owner@",
            "@example.com",
            "owner@example",
            "ow ner@example.com",
            "owner@exa_mple.com",
            "owner@-example.com",
            ".owner@example.com",
            "ow..ner@example.com",
            "owner@example..com",
            "<script>@x.com",
        ] {
            assert!(validate(a).is_err(), "{a:?} should be refused");
        }
        assert!(validate(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
