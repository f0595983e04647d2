//! Reading the TOML tree into the model, one module per top-level section.
//!
//! Decoding never stops at a problem: it reports it and continues with the default, so one run
//! shows every problem in the file. Cross-field rules live in `checks`.

mod access;
mod day2;
mod environment;
mod iam;
mod monitor;
mod network;
mod storage;
mod unity_catalog;
pub(crate) mod workspace;

use toml::de::DeTable;

use crate::model::Spec;
use crate::reader::{Cx, Table};

pub(crate) fn decode(root: &DeTable<'_>, cx: &mut Cx) -> Spec {
    let mut top = Table::root(root);
    let environment = environment::environment(&mut top.table(cx, "environment"), cx);
    let state = environment::state(&mut top.table(cx, "state"), cx, &environment);
    let mut databricks_table = top.table(cx, "databricks");
    let account =
        environment::account(&mut databricks_table.table(cx, "account"), cx, &environment);
    let network = network::network(&mut top.table(cx, "network"), cx, &environment);
    let kms = storage::kms(&mut top.table(cx, "kms"), cx, &environment);
    let mut buckets = storage::buckets(
        &mut top.table(cx, "buckets"),
        &mut top.table(cx, "datalake"),
        cx,
        &environment,
    );
    let iam = iam::iam(&mut top.table(cx, "iam"), cx, &environment);
    let databricks = workspace::databricks(&mut databricks_table, cx, &environment);
    databricks_table.finish(cx);
    let access = access::access(&mut top.table(cx, "access"), cx);
    moved(
        &mut top,
        cx,
        "single_user_clusters",
        "access.single_user_clusters",
    );
    let serve = access::serve(&mut top.table(cx, "serve"), cx);
    let monitor = monitor::monitor(&mut top.table(cx, "monitor"), cx, &environment);
    let sleep = day2::sleep(&mut top.table(cx, "sleep"), cx);
    let account_groups = unity_catalog::account_groups(&mut top, cx, &environment);
    let unity_catalog = unity_catalog::unity_catalog(&mut top, cx, &environment, &mut buckets);
    top.finish(cx);
    Spec {
        environment,
        state,
        account,
        network,
        kms,
        buckets,
        iam,
        databricks,
        access,
        serve,
        monitor,
        sleep,
        account_groups,
        unity_catalog,
    }
}

/// A section that moved: named with where it lives now, rather than as an unknown key.
fn moved(top: &mut Table<'_, '_>, cx: &mut Cx, old: &str, new: &str) {
    if top.has(old) {
        top.table(cx, old);
        cx.error_at(
            crate::diagnostic::DiagnosticCode::Unsupported,
            old,
            format!("`[{old}]` is now `[{new}]`"),
            format!("rename the section to `[{new}]`; docs/access.md describes its keys"),
        );
    }
}
