//! The AWS regions Databricks runs in, with their availability zones.
//!
//! A static table, so validation needs no network: a zone outside it is a typo or a region where
//! Databricks is not offered.

/// `(region, zone letters)`.
const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "abcdef"),
    ("us-east-2", "abc"),
    ("us-west-1", "abc"),
    ("us-west-2", "abcd"),
    ("ca-central-1", "abd"),
    ("sa-east-1", "abc"),
    ("eu-west-1", "abc"),
    ("eu-west-2", "abc"),
    ("eu-west-3", "abc"),
    ("eu-central-1", "abc"),
    ("eu-central-2", "abc"),
    ("eu-north-1", "abc"),
    ("eu-south-1", "abc"),
    ("ap-south-1", "abc"),
    ("ap-southeast-1", "abc"),
    ("ap-southeast-2", "abc"),
    ("ap-southeast-3", "abc"),
    ("ap-northeast-1", "acd"),
    ("ap-northeast-2", "abcd"),
    ("ap-northeast-3", "abc"),
    ("me-central-1", "abc"),
    ("af-south-1", "abc"),
];

/// Whether the region is one brickstack knows.
pub fn is_known_region(region: &str) -> bool {
    REGIONS.iter().any(|(r, _)| *r == region)
}

/// All known region names.
pub fn region_names() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(r, _)| *r)
}

/// The availability zones of a region, e.g. `eu-west-1a`.
pub fn zones(region: &str) -> Vec<String> {
    REGIONS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(r, letters)| letters.chars().map(|l| format!("{r}{l}")).collect())
        .unwrap_or_default()
}
