//! Per-test isolation: identifiers no other test (or earlier run against the same emulator) uses.
//!
//! moto keeps state for the life of its process and tests run in parallel, so tests never reset it;
//! each test works in its own moto account and names its buckets uniquely (bucket names are global
//! across moto accounts). The account-API emulator keys all state by Databricks account id, so a
//! fresh account id isolates a test there too.

/// moto's default account; never handed out, so a test cannot see another test's default-account objects.
const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

/// A fresh 12-digit AWS account id for moto (use it as `x-moto-account-id` or assume
/// `arn:aws:iam::<id>:role/<any>`; see [`crate::MotoEndpoint::role_arn`]).
pub fn unique_moto_account_id() -> String {
    loop {
        let id = fastrand::u64(100_000_000_000..1_000_000_000_000).to_string();
        if id != MOTO_DEFAULT_ACCOUNT {
            return id;
        }
    }
}

/// A fresh Databricks account id (a UUID, as the real API uses).
pub fn unique_account_id() -> String {
    uuid_v4()
}

/// `<prefix>-<12 random lowercase hex digits>`, with the prefix reduced to `[a-z0-9-]` and cut so the
/// whole name fits 63 characters (valid as an S3 bucket name and as most AWS/Databricks names).
pub fn unique_name(prefix: &str) -> String {
    let mut clean: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(63 - 13);
    let clean = clean.trim_matches('-');
    let suffix = format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff);
    if clean.is_empty() {
        format!("bs-{suffix}")
    } else {
        format!("{clean}-{suffix}")
    }
}

/// A globally unique S3 bucket name for `test_name` (`bs-<test>-<random>`).
pub fn unique_bucket_name(test_name: &str) -> String {
    unique_name(&format!("bs-{test_name}"))
}

/// A random version-4 UUID in its usual lowercase text form.
fn uuid_v4() -> String {
    let hi = (fastrand::u64(..) & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (fastrand::u64(..) & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moto_account_ids_have_twelve_digits_and_differ() {
        let a = unique_moto_account_id();
        let b = unique_moto_account_id();
        assert_eq!(a.len(), 12, "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_digit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn unique_names_are_valid_bucket_names() {
        let long = "Some::Very_Long Test Name ".repeat(10);
        for prefix in ["bs-vpc_round_trip", "", "--", long.as_str()] {
            let name = unique_name(prefix);
            assert!(name.len() >= 3 && name.len() <= 63, "{name}");
            assert!(
                name.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'),
                "{name}"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-'), "{name}");
        }
        assert_ne!(unique_bucket_name("t"), unique_bucket_name("t"));
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
