//! Identifiers the emulator hands out, in the forms the real API uses.

/// A 16-digit numeric string, the form of SCIM ids.
pub(crate) fn numeric_id() -> String {
    fastrand::u64(1_000_000_000_000_000..10_000_000_000_000_000).to_string()
}

/// `n` random lowercase hex digits.
pub(crate) fn hex(n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap())
        .collect()
}

/// A random version-4 UUID in its usual lowercase text form.
pub(crate) fn uuid_v4() -> String {
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
    fn uuids_are_version_4() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }

    #[test]
    fn numeric_ids_have_sixteen_digits_and_hex_has_n() {
        assert_eq!(numeric_id().len(), 16);
        let h = hex(12);
        assert_eq!(h.len(), 12);
        assert!(h.bytes().all(|c| c.is_ascii_hexdigit()), "{h}");
    }
}
