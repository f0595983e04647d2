//! `[sleep]`: run by `brickstack sleep` and `wake`, the schedule by `brickstack schedule`.

use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::model::{Schedule, Sleep};
use crate::reader::{Cx, Table};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub(super) fn sleep(t: &mut Table<'_, '_>, cx: &mut Cx) -> Sleep {
    let nat = t.bool(cx, "nat").unwrap_or(true);
    let interface_endpoints = t.bool(cx, "interface_endpoints").unwrap_or(true);
    let s3_gateway_endpoint = t.bool(cx, "s3_gateway_endpoint").unwrap_or(false);
    let schedule = if t.has_table("schedule") {
        let mut s = t.table(cx, "schedule");
        let sleep_at = time_of_day(&mut s, cx, "sleep_at");
        let wake_at = time_of_day(&mut s, cx, "wake_at");
        let time_zone = s.str(cx, "time_zone").unwrap_or_else(|| "UTC".to_string());
        if !is_time_zone(&time_zone) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                "sleep.schedule.time_zone",
                format!("`{time_zone}` is not an IANA time zone"),
                "write an IANA name such as `Europe/Madrid` or `UTC`",
            );
        }
        let days = s
            .str_list(cx, "days")
            .unwrap_or_else(|| DAYS[..5].iter().map(|d| d.to_string()).collect());
        for (i, day) in days.iter().enumerate() {
            if !DAYS.contains(&day.as_str()) {
                cx.error_at(
                    DiagnosticCode::InvalidValue,
                    &format!("sleep.schedule.days[{i}]"),
                    format!("`{day}` is not a day of the week"),
                    "use `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`",
                );
            }
        }
        if days.is_empty() {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                "sleep.schedule.days",
                "`sleep.schedule.days` is empty, so the schedule would never run",
                "list the days it applies, e.g. `[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]`, or remove `[sleep.schedule]`",
            );
        }
        s.finish(cx);
        if let (Some(sleep_at), Some(wake_at)) = (&sleep_at, &wake_at)
            && sleep_at == wake_at
        {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                "sleep.schedule.wake_at",
                format!("`sleep.schedule.wake_at` is `{wake_at}`, the same time as `sleep_at`"),
                "wake at another time; one earlier than `sleep_at` keeps the environment asleep overnight",
            );
        }
        match (sleep_at, wake_at) {
            (Some(sleep_at), Some(wake_at)) => Some(Schedule {
                sleep_at,
                wake_at,
                time_zone,
                days,
            }),
            _ => None,
        }
    } else {
        // Reports a `schedule` that is not a table.
        t.table(cx, "schedule");
        None
    };
    let hourly_prices = t.str_map(cx, "hourly_prices").unwrap_or_default();
    for (k, v) in &hourly_prices {
        if !crate::prices::KEYS.contains(&k.as_str()) {
            let help = match crate::reader::did_you_mean(k, crate::prices::KEYS) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "the prices a spec can set are {}",
                    crate::prices::KEYS.map(|k| format!("`{k}`")).join(", ")
                ),
            };
            // Located at the key, the part that is wrong.
            let path = format!("sleep.hourly_prices.{k}");
            let span = cx
                .key_spans
                .get(&path)
                .cloned()
                .unwrap_or_else(|| cx.locate(&path));
            cx.report(
                Diagnostic::new(
                    DiagnosticCode::UnknownKey,
                    &path,
                    span,
                    format!("`{k}` is not a price brickstack uses"),
                )
                .with_help(help),
            );
            continue;
        }
        if v.parse::<f64>().map_or(true, |p| p < 0.0) {
            cx.error_at(
                DiagnosticCode::InvalidValue,
                &format!("sleep.hourly_prices.{k}"),
                format!("`{v}` is not a price"),
                "write the hourly price in USD as a string, e.g. `\"0.048\"`",
            );
        }
    }
    t.finish(cx);
    Sleep {
        nat,
        interface_endpoints,
        s3_gateway_endpoint,
        schedule,
        hourly_prices,
    }
}

fn time_of_day(t: &mut Table<'_, '_>, cx: &mut Cx, key: &str) -> Option<String> {
    let path = format!("{}.{key}", t.path);
    let Some(value) = t.str(cx, key) else {
        cx.error_at(
            DiagnosticCode::MissingKey,
            &path,
            format!("`{path}` is required in a schedule"),
            "write a local time such as `\"20:00\"`",
        );
        return None;
    };
    let valid = value.split_once(':').is_some_and(|(h, m)| {
        h.len() == 2
            && m.len() == 2
            && h.parse::<u8>().is_ok_and(|h| h < 24)
            && m.parse::<u8>().is_ok_and(|m| m < 60)
    });
    if !valid {
        cx.error_at(
            DiagnosticCode::InvalidValue,
            &path,
            format!("`{value}` is not a time of day"),
            "write `HH:MM` on a 24-hour clock, e.g. `\"07:30\"`",
        );
        return None;
    }
    Some(value)
}

/// IANA names are `UTC` or `Area/Location`; `brickstack schedule` looks the name up in the database.
fn is_time_zone(tz: &str) -> bool {
    const AREAS: [&str; 10] = [
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];
    tz == "UTC"
        || tz.split_once('/').is_some_and(|(area, place)| {
            AREAS.contains(&area)
                && !place.is_empty()
                && place
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_/+-".contains(c))
        })
}
