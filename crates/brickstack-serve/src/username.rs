//! A person's username as the service keys it: their e-mail, checked and lower-cased (as
//! `docs/access.md` keys people), so `Ana@X.com` and `ana@x.com` are one person with one queue entry.

/// The longest address SMTP carries (RFC 5321: 254 characters in a path).
const MAX_LEN: usize = 254;
/// The longest local part (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;

/// Checks `raw` is an e-mail address and returns it lower-cased, or says what is wrong with it.
/// Deliberately plain (dot-atom local part, dotted host name), like the spec's check: Databricks
/// user names are such addresses.
pub(crate) fn parse(raw: &str) -> Result<String, String> {
    let problem = |what: &str| Err(format!("`username` must be an e-mail address: {what}"));
    if raw.is_empty() {
        return problem("it is empty");
    }
    if raw.len() > MAX_LEN {
        return problem(&format!("it is longer than {MAX_LEN} characters"));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return problem("it contains a space or a control character");
    }
    let Some((local, domain)) = raw.split_once('@') else {
        return problem(&format!("`{raw}` has no `@`"));
    };
    if domain.contains('@') {
        return problem(&format!("`{raw}` has more than one `@`"));
    }
    if local.is_empty() {
        return problem(&format!("`{raw}` has nothing before the `@`"));
    }
    if local.len() > MAX_LOCAL_LEN {
        return problem(&format!(
            "the part before the `@` is longer than {MAX_LOCAL_LEN} characters"
        ));
    }
    const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    if local.split('.').any(str::is_empty) {
        return problem(&format!(
            "`{raw}` has an empty part between dots before the `@`"
        ));
    }
    if let Some(c) = local
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '.' || LOCAL_SPECIALS.contains(c)))
    {
        return problem(&format!("`{raw}` has `{c}` before the `@`"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return problem(&format!("the domain `{domain}` has no dot"));
    }
    for label in labels {
        if label.is_empty() {
            return problem(&format!("the domain `{domain}` has an empty part"));
        }
        if label.len() > 63 {
            return problem(&format!(
                "the domain `{domain}` has a part longer than 63 characters"
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-'))
        {
            return problem(&format!("the domain `{domain}` has `{c}`"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return problem(&format!(
                "the domain `{domain}` has a part starting or ending with `-`"
            ));
        }
    }
    Ok(raw.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn addresses_are_lower_cased() {
        assert_eq!(
            parse("Ana.Garcia+pii@Example.COM").unwrap(),
            "ana.garcia+pii@example.com"
        );
        assert_eq!(parse("a@b.co").unwrap(), "a@b.co");
    }

    #[test]
    fn each_problem_is_named() {
        let cases = [
            ("", "it is empty"),
            ("ana", "`ana` has no `@`"),
            ("a@b@c.com", "more than one `@`"),
            ("@example.com", "nothing before the `@`"),
            ("ana@example", "the domain `example` has no dot"),
            ("ana@example..com", "has an empty part"),
            ("ana@-x.com", "starting or ending with `-`"),
            ("ana@ex_ample.com", "the domain `ex_ample.com` has `_`"),
            ("an a@example.com", "a space or a control character"),
            ("ana..b@example.com", "empty part between dots"),
            ("ana(b)@example.com", "has `(` before the `@`"),
            ("ana@exämple.com", "has `ä`"),
        ];
        for (input, expected) in cases {
            let error = parse(input).unwrap_err();
            assert!(
                error.starts_with("`username` must be an e-mail address: ")
                    && error.contains(expected),
                "{input:?}: {error}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(parse(&long).unwrap_err().contains("longer than 64"));
        let longer = format!("a@{}.com", "b".repeat(260));
        assert!(parse(&longer).unwrap_err().contains("longer than 254"));
    }
}
