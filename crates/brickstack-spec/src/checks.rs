//! Rules that span several keys: network layout, names AWS would reject, references, bounds.
//!
//! Each rule reads the decoded model and reports at the key that is most likely wrong; when that key
//! was not written (a default), at the key that produced the value (usually `environment.prefix`).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::model::{BucketRole, NatMode, Spec};
use crate::reader::{Cx, did_you_mean};
use crate::regions;

/// Runs every rule whose inputs decoded cleanly: a rule reading a value the file got wrong (a
/// default now stands in for it) would only report the consequences of that default.
pub(crate) fn check(spec: &Spec, cx: &mut Cx) {
    if !cx.is_poisoned(&["environment.region", "network"]) {
        network(spec, cx);
    }
    if !cx.is_poisoned(&[
        "environment.prefix",
        "environment.name",
        "buckets",
        "datalake",
        "state",
    ]) {
        bucket_names(spec, cx);
    }
    if !cx.is_poisoned(&["environment.prefix", "iam"]) {
        iam_names(spec, cx);
    }
    if !cx.is_poisoned(&["environment.prefix", "kms"]) {
        kms_aliases(spec, cx);
    }
    references(spec, cx);
    databricks(spec, cx);
    unity_catalog(spec, cx);
}

/// Reports at `path` if the file wrote it (or a parent), else at `fallback`.
fn report_at(
    cx: &mut Cx,
    code: DiagnosticCode,
    path: &str,
    fallback: &str,
    message: String,
    help: String,
) {
    let key = if cx.spans.contains_key(path) {
        path
    } else {
        fallback
    };
    let span = cx.locate(key);
    cx.report(Diagnostic::new(code, key, span, message).with_help(help));
}

fn network(spec: &Spec, cx: &mut Cx) {
    let net = &spec.network;
    let zones = regions::zones(&spec.environment.region);
    let all = net
        .private_subnets
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("network.private_subnets[{i}]"), s))
        .chain(
            net.public_subnets
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("network.public_subnets[{i}]"), s)),
        )
        .collect::<Vec<_>>();
    for (i, (path, subnet)) in all.iter().enumerate() {
        if !net.cidr.contains(&subnet.cidr) {
            report_at(
                cx,
                DiagnosticCode::Network,
                &format!("{path}.cidr"),
                path,
                format!("subnet `{}` is outside the VPC `{}`", subnet.cidr, net.cidr),
                format!(
                    "pick a block inside `{}`, or widen `network.cidr`",
                    net.cidr
                ),
            );
        }
        if let Some((other, _)) = all[..i].iter().find(|(_, o)| {
            o.cidr.contains(&subnet.cidr.network()) || subnet.cidr.contains(&o.cidr.network())
        }) {
            report_at(
                cx,
                DiagnosticCode::Network,
                &format!("{path}.cidr"),
                path,
                format!("subnet `{}` overlaps `{other}`", subnet.cidr),
                "give every subnet its own block".to_string(),
            );
        }
        if !zones.is_empty() && !zones.contains(&subnet.az) {
            report_at(
                cx,
                DiagnosticCode::Network,
                &format!("{path}.az"),
                path,
                format!(
                    "availability zone `{}` is not in region `{}`",
                    subnet.az, spec.environment.region
                ),
                match did_you_mean(&subnet.az, zones.iter().map(String::as_str)) {
                    // Every zone of the region is as near to `eu-west-1d` as the next: suggest
                    // only when the region part itself looks mistyped.
                    Some(z) if !subnet.az.starts_with(&spec.environment.region) => {
                        format!("did you mean `{z}`?")
                    }
                    _ => format!("the region's zones are {}", backticked(&zones)),
                },
            );
        }
    }
    if !(16..=25).contains(&net.cidr.prefix_len()) {
        report_at(
            cx,
            DiagnosticCode::Network,
            "network.cidr",
            "network",
            format!(
                "a Databricks VPC must be between /16 and /25, not /{}",
                net.cidr.prefix_len()
            ),
            "pick a netmask from /16 to /25".into(),
        );
    }
    for (i, subnet) in net.private_subnets.iter().enumerate() {
        if !(17..=26).contains(&subnet.cidr.prefix_len()) {
            let path = format!("network.private_subnets[{i}]");
            report_at(
                cx,
                DiagnosticCode::Network,
                &format!("{path}.cidr"),
                &path,
                format!(
                    "Databricks cluster subnets must be between /17 and /26, not /{}",
                    subnet.cidr.prefix_len()
                ),
                "pick a netmask from /17 to /26".into(),
            );
        }
    }
    let mut private_zones: Vec<&str> = net.private_subnets.iter().map(|s| s.az.as_str()).collect();
    private_zones.sort_unstable();
    private_zones.dedup();
    if private_zones.len() < 2 {
        report_at(
            cx,
            DiagnosticCode::Network,
            "network.private_subnets",
            "network",
            "a Databricks workspace needs private subnets in at least two availability zones"
                .into(),
            "add a `[[network.private_subnets]]` in another zone".into(),
        );
    }
    let public_zones: Vec<&str> = net.public_subnets.iter().map(|s| s.az.as_str()).collect();
    match net.nat {
        NatMode::Single if public_zones.is_empty() => report_at(
            cx,
            DiagnosticCode::Network,
            "network.nat",
            "network",
            "a NAT gateway needs a public subnet".into(),
            "add a `[[network.public_subnets]]`, or set `nat = \"none\"`".into(),
        ),
        NatMode::PerAz => {
            for zone in private_zones.iter().filter(|z| !public_zones.contains(z)) {
                report_at(
                    cx,
                    DiagnosticCode::Network,
                    "network.nat",
                    "network",
                    format!("`nat = \"per_az\"` needs a public subnet in `{zone}`"),
                    format!("add a `[[network.public_subnets]]` with `az = \"{zone}\"`"),
                );
            }
        }
        _ => {}
    }
}

fn bucket_names(spec: &Spec, cx: &mut Cx) {
    if let crate::model::StateBackend::S3(s3) = &spec.state
        && let Some(problem) = bucket_name_problem(&s3.bucket)
    {
        report_at(
            cx,
            DiagnosticCode::Naming,
            "state.bucket",
            "environment.prefix",
            format!("state bucket name `{}` {problem}", s3.bucket),
            "set `state.bucket` to a valid name, or shorten `environment.prefix`".into(),
        );
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for bucket in &spec.buckets.all {
        let (base, path) = match bucket.role {
            BucketRole::Datalake => {
                let base = format!("datalake.layers.{}", bucket.key);
                (base.clone(), format!("{base}.suffix"))
            }
            // Named in full, not by suffix.
            BucketRole::Metastore => ("unity_catalog".to_string(), "unity_catalog.bucket".into()),
            _ => {
                let base = format!("buckets.{}", bucket.key);
                (base.clone(), format!("{base}.suffix"))
            }
        };
        let problem = bucket_name_problem(&bucket.name);
        if let Some(problem) = &problem
            && bucket.role == BucketRole::Metastore
        {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                "environment.prefix",
                format!("bucket name `{}` {problem}", bucket.name),
                "set `unity_catalog.bucket` to a valid name (lowercase letters, digits and `-`), or shorten `environment.prefix`".into(),
            );
        } else if let Some(problem) = &problem {
            let fallback = if cx.spans.contains_key(&base) {
                base.clone()
            } else {
                "environment.prefix".to_string()
            };
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &fallback,
                format!("bucket name `{}` {problem}", bucket.name),
                "bucket names are `<prefix>-<suffix>`: shorten `environment.prefix` or the bucket's `suffix`, using lowercase letters, digits and `-`".into(),
            );
        }
        if let Some(other) = seen.insert(&bucket.name, &bucket.key) {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &base,
                format!("bucket name `{}` is also used by `{other}`", bucket.name),
                if bucket.role == BucketRole::Metastore {
                    "give the metastore its own `unity_catalog.bucket`".into()
                } else {
                    "give each bucket its own `suffix`".into()
                },
            );
        }
    }
}

/// Why S3 would reject a bucket name, if it would.
pub fn bucket_name_problem(name: &str) -> Option<String> {
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Some(format!("is {len} characters long; S3 allows 3 to 63"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "contains `{c}`; S3 allows lowercase letters, digits, `-` and `.`"
        ));
    }
    let first = name.chars().next()?;
    let last = name.chars().last()?;
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Some("must begin and end with a letter or digit".into());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("has adjacent dots or a dot next to `-`".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("looks like an IP address".into());
    }
    if name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
    {
        return Some("uses a prefix or suffix S3 reserves".into());
    }
    None
}

fn iam_names(spec: &Spec, cx: &mut Cx) {
    let iam = &spec.iam;
    let mut roles = vec![
        ("iam.cross_account_role", &iam.cross_account_role),
        ("iam.log_delivery_role", &iam.log_delivery_role),
        ("iam.meta_role", &iam.meta_role),
        ("iam.read_role", &iam.read_role),
        ("iam.write_role", &iam.write_role),
    ];
    if let Some(uc) = &spec.unity_catalog {
        roles.push(("unity_catalog.role", &uc.role));
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, name) in roles {
        let path = key.to_string();
        let fallback = if cx.spans.contains_key(&path) {
            path.clone()
        } else {
            "environment.prefix".into()
        };
        if name.len() > 64 {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &fallback,
                format!(
                    "IAM role name `{name}` is {} characters long; IAM allows 64",
                    name.len()
                ),
                format!("shorten `environment.prefix` or set `{key}` to a shorter name"),
            );
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
        {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &fallback,
                format!("IAM role name `{name}` contains `{c}`"),
                "IAM names take letters, digits and `+=,.@_-`".into(),
            );
        }
        if let Some(other) = seen.insert(name, key) {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &fallback,
                format!("IAM role name `{name}` is also used by `{other}`"),
                "give each role its own name".into(),
            );
        }
    }
}

fn kms_aliases(spec: &Spec, cx: &mut Cx) {
    for key in &spec.kms {
        let path = format!("kms.keys.{}.alias", key.name);
        let valid = key
            .alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
        if !valid || key.alias.starts_with("aws/") || key.alias.len() > 250 {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                "environment.prefix",
                format!("KMS alias `alias/{}` is not valid", key.alias),
                "aliases take letters, digits, `/_-`, at most 250 characters, and may not start with `aws/`".into(),
            );
        }
    }
}

fn references(spec: &Spec, cx: &mut Cx) {
    let keys: Vec<&str> = spec.kms.iter().map(|k| k.name.as_str()).collect();
    let undefined = |cx: &mut Cx, path: &str, what: &str, name: &str, known: &[&str]| {
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if known.is_empty() => format!("define the {what} first"),
            None => format!("the defined {what}s are {}", backticked(known)),
        };
        let span = cx.locate(path);
        cx.report(
            Diagnostic::new(
                DiagnosticCode::UndefinedReference,
                path,
                span,
                format!("`{path}` refers to {what} `{name}`, which the spec does not define"),
            )
            .with_help(help),
        );
    };
    // The metastore's bucket takes a datalake layer's key, reported at the layer.
    for bucket in spec
        .buckets
        .all
        .iter()
        .filter(|b| b.role != BucketRole::Metastore)
    {
        if !keys.contains(&bucket.kms_key.as_str()) {
            let path = match bucket.role {
                BucketRole::Datalake
                    if cx
                        .spans
                        .contains_key(&format!("datalake.layers.{}.kms_key", bucket.key)) =>
                {
                    format!("datalake.layers.{}.kms_key", bucket.key)
                }
                BucketRole::Datalake => "datalake.kms_key".to_string(),
                _ => format!("buckets.{}.kms_key", bucket.key),
            };
            undefined(cx, &path, "KMS key", &bucket.kms_key, &keys);
        }
    }
    if !keys.contains(&spec.databricks.storage_cmk.as_str()) {
        undefined(
            cx,
            "databricks.workspace.storage_cmk",
            "KMS key",
            &spec.databricks.storage_cmk,
            &keys,
        );
    }
    let bucket_keys: Vec<&str> = spec.buckets.all.iter().map(|b| b.key.as_str()).collect();
    if let Some(f) = &spec.network.flow_logs
        && !bucket_keys.contains(&f.bucket.as_str())
    {
        undefined(
            cx,
            "network.flow_logs.bucket",
            "bucket",
            &f.bucket,
            &bucket_keys,
        );
    }
    let policies: Vec<&str> = spec
        .databricks
        .cluster_policies
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    for c in &spec.databricks.clusters {
        if let Some(p) = &c.policy
            && !policies.contains(&p.as_str())
        {
            undefined(
                cx,
                &format!("databricks.clusters.{}.policy", c.key),
                "cluster policy",
                p,
                &policies,
            );
        }
    }
    if let Some(su) = &spec.access.single_user_clusters
        && let Some(p) = &su.cluster.policy
        && !policies.contains(&p.as_str())
    {
        undefined(
            cx,
            "access.single_user_clusters.cluster.policy",
            "cluster policy",
            p,
            &policies,
        );
    }
    if let Some(monitor) = &spec.monitor {
        for (i, p) in monitor.scope.policies.iter().enumerate() {
            if !policies.contains(&p.as_str()) {
                undefined(
                    cx,
                    &format!("monitor.scope.policies[{i}]"),
                    "cluster policy",
                    p,
                    &policies,
                );
            }
        }
    }
    let mut groups: Vec<&str> = spec
        .databricks
        .groups
        .iter()
        .map(|g| g.key.as_str())
        .collect();
    groups.extend(["admins", "users"]);
    for s in &spec.databricks.secret_scopes {
        for (i, r) in s.readers.iter().enumerate() {
            if !groups.contains(&r.as_str()) {
                undefined(
                    cx,
                    &format!("databricks.secret_scopes.{}.readers[{i}]", s.key),
                    "group",
                    r,
                    &groups,
                );
            }
        }
    }
    for (i, g) in spec
        .databricks
        .meta_instance_profile_groups
        .iter()
        .enumerate()
    {
        if !groups.contains(&g.as_str()) {
            undefined(
                cx,
                &format!("databricks.meta_instance_profile_groups[{i}]"),
                "group",
                g,
                &groups,
            );
        }
    }
}

fn databricks(spec: &Spec, cx: &mut Cx) {
    let db = &spec.databricks;
    let tokens = &db.tokens;
    let tokens_usable = !cx.is_poisoned(&[
        "databricks.tokens",
        "databricks.workspace.max_token_lifetime_days",
    ]);
    if tokens_usable && tokens.rotate_before_seconds >= tokens.lifetime_seconds {
        report_at(
            cx,
            DiagnosticCode::InvalidValue,
            "databricks.tokens.rotate_before_seconds",
            "databricks.tokens",
            format!(
                "tokens would be rotated {}s before expiry but live only {}s",
                tokens.rotate_before_seconds, tokens.lifetime_seconds
            ),
            "make `rotate_before_seconds` smaller than `lifetime_seconds`".into(),
        );
    }
    if let (Some(days), true) = (db.max_token_lifetime_days, tokens_usable)
        && days * 86_400 < tokens.lifetime_seconds
    {
        report_at(
            cx,
            DiagnosticCode::InvalidValue,
            "databricks.tokens.lifetime_seconds",
            "databricks.workspace.max_token_lifetime_days",
            format!(
                "token lifetime {}s exceeds the workspace maximum of {days} day{}",
                tokens.lifetime_seconds,
                if days == 1 { "" } else { "s" }
            ),
            format!(
                "lower `lifetime_seconds` to at most {} or raise `max_token_lifetime_days`",
                days * 86_400
            ),
        );
    }
    duplicates(
        cx,
        "databricks.groups",
        db.groups
            .iter()
            .map(|g| (g.key.as_str(), g.display_name.as_str())),
        "display_name",
        "group",
    );
    duplicates(
        cx,
        "databricks.clusters",
        db.clusters
            .iter()
            .map(|c| (c.key.as_str(), c.name.as_str())),
        "name",
        "cluster",
    );
    duplicates(
        cx,
        "databricks.cluster_policies",
        db.cluster_policies
            .iter()
            .map(|p| (p.key.as_str(), p.name.as_str())),
        "name",
        "cluster policy",
    );
    duplicates(
        cx,
        "databricks.secret_scopes",
        db.secret_scopes
            .iter()
            .map(|s| (s.key.as_str(), s.name.as_str())),
        "name",
        "secret scope",
    );
    for g in &db.groups {
        if ["admins", "users"].contains(&g.display_name.as_str()) {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &format!("databricks.groups.{}.display_name", g.key),
                &format!("databricks.groups.{}", g.key),
                format!("`{}` is a built-in Databricks group", g.display_name),
                "pick another display name; reference the built-in group as `admins` or `users` directly".into(),
            );
        }
    }
    for p in &db.cluster_policies {
        if let Err(reason) = crate::decode::workspace::canonical_json_object(&p.definition) {
            report_at(
                cx,
                DiagnosticCode::InvalidValue,
                &format!("databricks.cluster_policies.{}.definition", p.key),
                &format!("databricks.cluster_policies.{}", p.key),
                format!("a cluster policy definition must be a JSON object ({reason})"),
                "write it as JSON text in single quotes: `definition = '{\"spark_version\": {\"type\": \"unlimited\"}}'`".into(),
            );
        }
    }
    for a in &db.ip_access_lists {
        for (i, ip) in a.ip_addresses.iter().enumerate() {
            let valid =
                ip.parse::<std::net::Ipv4Addr>().is_ok() || ip.parse::<ipnet::Ipv4Net>().is_ok();
            if !valid {
                report_at(
                    cx,
                    DiagnosticCode::InvalidValue,
                    &format!("databricks.ip_access_lists.{}.ip_addresses[{i}]", a.key),
                    &format!("databricks.ip_access_lists.{}", a.key),
                    format!("`{ip}` is not an IPv4 address or CIDR block"),
                    "write `203.0.113.7` or `203.0.113.0/24`".into(),
                );
            }
        }
    }
}

fn duplicates<'a>(
    cx: &mut Cx,
    section: &str,
    items: impl Iterator<Item = (&'a str, &'a str)>,
    field: &str,
    what: &str,
) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, name) in items {
        if let Some(other) = seen.insert(name, key) {
            let path = format!("{section}.{key}.{field}");
            report_at(
                cx,
                DiagnosticCode::Naming,
                &path,
                &format!("{section}.{key}"),
                format!("{what} name `{name}` is also used by `{section}.{other}`"),
                format!("give each {what} its own `{field}`"),
            );
        }
    }
}

fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[account_groups]` and `[unity_catalog]`: what names an account group must exist, what names a
/// datalake layer must be one, and names Unity Catalog would refuse or fold to lower case.
fn unity_catalog(spec: &Spec, cx: &mut Cx) {
    let groups: Vec<&str> = spec.account_groups.iter().map(|g| g.key.as_str()).collect();
    duplicates(
        cx,
        "account_groups",
        spec.account_groups
            .iter()
            .map(|g| (g.key.as_str(), g.display_name.as_str())),
        "display_name",
        "account group",
    );
    for g in &spec.account_groups {
        let clash = spec
            .databricks
            .groups
            .iter()
            .find(|w| w.display_name == g.display_name);
        if let (Some(w), Some(_)) = (clash, g.workspace_permission) {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &format!("account_groups.{}.display_name", g.key),
                &format!("account_groups.{}", g.key),
                format!(
                    "account group `{}` has the name of workspace group `databricks.groups.{}`",
                    g.display_name, w.key
                ),
                "a workspace cannot be given an account group named like one of its own groups: rename one of them".into(),
            );
        }
    }
    let Some(uc) = &spec.unity_catalog else {
        for g in spec
            .account_groups
            .iter()
            .filter(|g| g.workspace_permission.is_some())
        {
            report_at(
                cx,
                DiagnosticCode::InvalidValue,
                &format!("account_groups.{}.workspace_permission", g.key),
                &format!("account_groups.{}", g.key),
                format!("account group `{}` is given a workspace permission, but the workspace has no metastore", g.display_name),
                "a workspace takes account groups once a Unity Catalog metastore is assigned to it: add `[unity_catalog]`, or remove `workspace_permission`".into(),
            );
        }
        return;
    };
    let undefined_group = |cx: &mut Cx, path: &str, group: &str| {
        let help = match did_you_mean(group, groups.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if groups.is_empty() => {
                format!("define it as `[account_groups.{group}]`")
            }
            None => format!(
                "the defined account groups are {}; or define `[account_groups.{group}]`",
                backticked(&groups)
            ),
        };
        let span = cx.locate(path);
        cx.report(
            Diagnostic::new(
                DiagnosticCode::UndefinedReference,
                path,
                span,
                format!(
                    "`{path}` refers to account group `{group}`, which the spec does not define"
                ),
            )
            .with_help(help),
        );
    };
    let groups_usable = !cx.is_poisoned(&["account_groups"]);
    if let Some(owner) = &uc.owner
        && groups_usable
        && !groups.contains(&owner.as_str())
    {
        undefined_group(cx, "unity_catalog.owner", owner);
    }
    let layers: Vec<&str> = spec
        .buckets
        .by_role(BucketRole::Datalake)
        .map(|b| b.key.as_str())
        .collect();
    if layers.contains(&"metastore") {
        report_at(
            cx,
            DiagnosticCode::Naming,
            "datalake.layers.metastore",
            "unity_catalog",
            "the datalake layer `metastore` has the key of Unity Catalog's metastore bucket".into(),
            "rename the layer; `[unity_catalog]` makes the bucket `metastore`".into(),
        );
    }
    let valid_name = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    for c in &uc.catalogs {
        let base = format!("unity_catalog.catalogs.{}", c.key);
        if !valid_name(&c.name) {
            report_at(
                cx,
                DiagnosticCode::Naming,
                &format!("{base}.name"),
                &base,
                format!(
                    "catalog name `{}` is not lowercase letters, digits and `_`",
                    c.name
                ),
                format!(
                    "Unity Catalog stores names in lower case: write the name as it is read back, e.g. `{}`",
                    folded(&c.name)
                ),
            );
        }
        if let Some(storage) = &c.storage
            && !cx.is_poisoned(&["datalake"])
        {
            let path = format!("{base}.storage");
            if !layers.contains(&storage.as_str()) {
                let help = match did_you_mean(storage, layers.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("the datalake layers are {}", backticked(&layers)),
                };
                let span = cx.locate(&path);
                cx.report(
                    Diagnostic::new(
                        DiagnosticCode::UndefinedReference,
                        &path,
                        span,
                        format!("`{path}` refers to datalake layer `{storage}`, which the spec does not define"),
                    )
                    .with_help(help),
                );
            } else if !uc.external_locations {
                report_at(
                    cx,
                    DiagnosticCode::InvalidValue,
                    &path,
                    &base,
                    format!("catalog `{}` is stored in layer `{storage}`, but `unity_catalog.external_locations` is off", c.name),
                    "a catalog's storage needs the layer's external location: remove `storage`, or turn `external_locations` on".into(),
                );
            }
        }
        let schemas_usable = !cx.is_poisoned(&[&format!("{base}.schemas")]);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, s) in c.schemas.iter().enumerate() {
            let at = format!("{base}.schemas[{i}]");
            let name_path = if cx.spans.contains_key(&format!("{at}.name")) {
                format!("{at}.name")
            } else {
                at.clone()
            };
            if !valid_name(&s.name) && schemas_usable {
                report_at(
                    cx,
                    DiagnosticCode::Naming,
                    &name_path,
                    &base,
                    format!(
                        "schema name `{}` is not lowercase letters, digits and `_`",
                        s.name
                    ),
                    format!(
                        "Unity Catalog stores names in lower case: write the name as it is read back, e.g. `{}`",
                        folded(&s.name)
                    ),
                );
            }
            if let Some(first) = seen.insert(&s.name, i)
                && schemas_usable
            {
                report_at(
                    cx,
                    DiagnosticCode::Naming,
                    &name_path,
                    &base,
                    format!(
                        "schema `{}` is listed twice in catalog `{}` (first at `{base}.schemas[{first}]`)",
                        s.name, c.name
                    ),
                    "list each schema once".into(),
                );
            }
            if schemas_usable && groups_usable {
                grant_rules(cx, &at, &s.grants, &groups, &undefined_group);
            }
        }
        if groups_usable {
            grant_rules(cx, &base, &c.grants, &groups, &undefined_group);
        }
    }
    duplicates(
        cx,
        "unity_catalog.catalogs",
        uc.catalogs
            .iter()
            .map(|c| (c.key.as_str(), c.name.as_str())),
        "name",
        "catalog",
    );
}

/// A name as Unity Catalog could take it: lower case, `_` for anything else.
fn folded(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The grants of one securable at `base`: each group defined, each once.
fn grant_rules(
    cx: &mut Cx,
    base: &str,
    grants: &[crate::model::UcGrant],
    groups: &[&str],
    undefined_group: &dyn Fn(&mut Cx, &str, &str),
) {
    if cx.is_poisoned(&[&format!("{base}.grants")]) {
        return;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in grants.iter().enumerate() {
        let path = format!("{base}.grants[{i}].group");
        if !groups.contains(&g.group.as_str()) {
            undefined_group(cx, &path, &g.group);
        }
        if let Some(first) = seen.insert(&g.group, i) {
            report_at(
                cx,
                DiagnosticCode::InvalidValue,
                &path,
                base,
                format!(
                    "account group `{}` is granted twice here (first at `{base}.grants[{first}]`)",
                    g.group
                ),
                "give the group one grant listing all its privileges".into(),
            );
        }
    }
}
