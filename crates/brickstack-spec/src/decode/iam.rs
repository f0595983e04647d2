//! `[iam]`: the roles Databricks and its clusters assume.

use crate::model::{Environment, Iam};
use crate::reader::{Cx, Table};

pub(super) fn iam(t: &mut Table<'_, '_>, cx: &mut Cx, env: &Environment) -> Iam {
    let p = &env.prefix;
    let mut name = |key: &str, default: String| t.str(cx, key).unwrap_or(default);
    let cross_account_role = name("cross_account_role", format!("{p}-cross-account-role"));
    let log_delivery_role = name("log_delivery_role", format!("{p}-log-delivery"));
    let meta_role = name("meta_role", format!("{p}-meta_role"));
    let read_role = name("read_role", format!("{p}-s3_datalake_read_role"));
    let write_role = name("write_role", format!("{p}-s3_datalake_write_role"));
    let glue_access = t.bool(cx, "glue_access").unwrap_or(true);
    let restrict_to_databricks_tags = t.bool(cx, "restrict_to_databricks_tags").unwrap_or(true);
    t.finish(cx);
    Iam {
        cross_account_role,
        log_delivery_role,
        meta_role,
        read_role,
        write_role,
        glue_access,
        restrict_to_databricks_tags,
    }
}
