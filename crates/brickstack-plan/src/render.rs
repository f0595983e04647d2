//! The plan for people: drift first ("changed outside brickstack"), then what is asleep, then each
//! change with an attribute-level diff, then the counts. Colour is optional; the text reads the
//! same without it.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::plan::{Action, Change, Plan, ReplaceReason};

const KNOWN_AFTER_APPLY: &str = "(known after apply)";

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

/// The whole plan as text.
pub fn text(plan: &Plan, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    if !plan.drift.is_empty() {
        let _ = writeln!(out, "{}", style.bold("Objects changed outside brickstack:"));
        let _ = writeln!(out);
        for drift in &plan.drift {
            if drift.deleted {
                let _ = writeln!(out, "  # {} was deleted outside brickstack", drift.address);
            } else {
                let _ = writeln!(out, "  # {} was changed outside brickstack", drift.address);
                for change in &drift.changes {
                    let _ = writeln!(
                        out,
                        "      {} {} = {} -> {}",
                        style.yellow("~"),
                        change.name,
                        show(change.before.as_ref()),
                        show(change.after.as_ref())
                    );
                }
            }
        }
        let _ = writeln!(out);
    }
    if !plan.asleep.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Asleep (put to sleep by `brickstack sleep`; `brickstack wake -e {}` recreates them):",
                plan.environment
            ))
        );
        let _ = writeln!(out);
        for asleep in &plan.asleep {
            match &asleep.waits_for {
                None => {
                    let _ = writeln!(out, "  asleep: {}", asleep.address);
                }
                Some(needed) => {
                    let _ = writeln!(
                        out,
                        "  waits for wake: {} (its change needs `{needed}`)",
                        asleep.address
                    );
                }
            }
        }
        let _ = writeln!(out);
    }
    let pending: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::NoOp)
        .filter(|c| c.removal.is_some())
        .collect();
    if !pending.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style
                .bold("Pending removal (no longer in the spec; deleted once their grace is over):")
        );
        let _ = writeln!(out);
        for change in &pending {
            if let Some(removal) = &change.removal {
                let _ = writeln!(
                    out,
                    "  pending removal: {}: deleted by the first apply after {} (since {}, grace {})",
                    change.address,
                    removal.delete_after,
                    removal.since,
                    span(removal.grace_seconds)
                );
            }
        }
        let _ = writeln!(out);
    }
    let changing: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if changing.is_empty() {
        if !pending.is_empty() {
            let _ = writeln!(
                out,
                "No changes now. The environment `{}` matches its spec, apart from {} resource(s) pending removal.",
                plan.environment,
                pending.len()
            );
        } else if plan.asleep.is_empty() {
            let _ = writeln!(
                out,
                "No changes. The environment `{}` matches its spec.",
                plan.environment
            );
        } else {
            let _ = writeln!(
                out,
                "No changes. The environment `{}` matches its spec, apart from {} resource(s) asleep.",
                plan.environment,
                plan.asleep.len()
            );
        }
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        style.bold("brickstack will perform the following actions:")
    );
    let _ = writeln!(out);
    for change in changing {
        render_change(&mut out, change, &style);
        let _ = writeln!(out);
    }
    let s = &plan.summary;
    let mut counts = format!(
        "{} to add, {} to change, {} to replace, {} to destroy",
        s.create, s.update, s.replace, s.delete
    );
    if s.sleep > 0 {
        let _ = write!(counts, ", {} to put to sleep", s.sleep);
    }
    if s.asleep > 0 {
        let _ = write!(counts, ", {} asleep", s.asleep);
    }
    if s.retire > 0 {
        let _ = write!(counts, ", {} to mark for removal", s.retire);
    }
    if s.keep > 0 {
        let _ = write!(counts, ", {} to keep", s.keep);
    }
    if s.pending_removal > 0 {
        let _ = write!(counts, ", {} pending removal", s.pending_removal);
    }
    let _ = writeln!(out, "{} {counts}.", style.bold("Plan:"));
    out
}

fn render_change(out: &mut String, change: &Change, style: &Style) {
    let (symbol, verb) = match change.action {
        Action::Create => (style.green("+"), "will be created".to_string()),
        Action::Update => (style.yellow("~"), "will be updated in place".to_string()),
        Action::Replace => {
            let mut notes: Vec<String> = change.replace_reason.iter().map(reason).collect();
            if change.create_before_destroy {
                notes.push("new object first".into());
            }
            let symbol = if change.create_before_destroy {
                style.green("+/-")
            } else {
                style.red("-/+")
            };
            if notes.is_empty() {
                (symbol, "must be replaced".to_string())
            } else {
                (symbol, format!("must be replaced ({})", notes.join("; ")))
            }
        }
        Action::Retire => {
            let removal = change.removal.as_ref();
            (
                style.yellow("~"),
                format!(
                    "is no longer in the spec: pending removal, deleted by the first apply after {} (grace {}); this apply only records that",
                    removal.map_or("?", |r| r.delete_after.as_str()),
                    span(removal.map_or(0, |r| r.grace_seconds)),
                ),
            )
        }
        Action::Keep => (
            style.yellow("~"),
            "is kept: in the spec again (no longer pending removal), recorded as such".to_string(),
        ),
        Action::Delete if change.retained => (
            style.red("-"),
            "will be forgotten: its kind is retained on delete, so the object is left in place"
                .to_string(),
        ),
        Action::Delete if change.object_id.is_none() => (
            style.red("-"),
            "will be forgotten (it is asleep: no object to destroy)".to_string(),
        ),
        Action::Delete => match &change.removal {
            Some(removal) => (
                style.red("-"),
                format!(
                    "will be destroyed (no longer in the spec since {}; its grace of {} is over or the run is a destroy)",
                    removal.since,
                    span(removal.grace_seconds)
                ),
            ),
            None => (style.red("-"), "will be destroyed".to_string()),
        },
        Action::Sleep => (
            style.red("-"),
            "will be put to sleep (destroyed; its record stays for `brickstack wake`)".to_string(),
        ),
        Action::NoOp => return,
    };
    let _ = writeln!(out, "  # {} {verb}", change.address);
    if matches!(change.action, Action::Retire | Action::Keep) {
        // State only: no attribute changes.
        let _ = writeln!(out, "  {symbol} {}", change.address);
        return;
    }
    let _ = writeln!(out, "  {symbol} {} {{", change.address);
    let width = change
        .after
        .iter()
        .chain(change.before.iter())
        .flat_map(|m| m.keys())
        .map(String::len)
        .max()
        .unwrap_or(0);
    match change.action {
        Action::Create => {
            for (name, value) in change.after.iter().flatten() {
                let shown = if change.after_unknown.contains(name) {
                    KNOWN_AFTER_APPLY.to_string()
                } else {
                    show(Some(value))
                };
                let _ = writeln!(out, "      {} {name:width$} = {shown}", style.green("+"));
            }
        }
        Action::Retire | Action::Keep => {}
        Action::Delete | Action::Sleep => {
            for (name, value) in change.before.iter().flatten() {
                let _ = writeln!(
                    out,
                    "      {} {name:width$} = {}",
                    style.red("-"),
                    show(Some(value))
                );
            }
        }
        Action::Update | Action::Replace => {
            let before = change.before.clone().unwrap_or_default();
            let mut unchanged = 0;
            for (name, value) in change.after.iter().flatten() {
                let unknown = change.after_unknown.contains(name);
                let old = before.get(name);
                if !unknown && old == Some(value) {
                    unchanged += 1;
                    continue;
                }
                let new = if unknown {
                    KNOWN_AFTER_APPLY.to_string()
                } else {
                    show(Some(value))
                };
                let mark = if change.replace_because.contains(name) {
                    format!(" {}", style.red("# forces replacement"))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "      {} {name:width$} = {} -> {new}{mark}",
                    style.yellow("~"),
                    show(old)
                );
            }
            // A replacement no attribute forces (a rotation, a request) changes none of them.
            let total = change.after.as_ref().map_or(0, serde_json::Map::len);
            if unchanged == total && total > 0 {
                let _ = writeln!(out, "      # ({total} attributes unchanged)");
            }
        }
        Action::NoOp => {}
    }
    let _ = writeln!(out, "    }}");
}

/// Why a replacement was decided, for the change's heading.
fn reason(reason: &ReplaceReason) -> String {
    match reason {
        ReplaceReason::Rotation {
            expires_in_seconds, ..
        } if *expires_in_seconds == 0 => "rotation: expired just now".into(),
        ReplaceReason::Rotation {
            expires_in_seconds, ..
        } if *expires_in_seconds < 0 => {
            format!(
                "rotation: expired {} ago",
                span(expires_in_seconds.unsigned_abs())
            )
        }
        ReplaceReason::Rotation {
            expires_in_seconds,
            rotate_before_seconds,
        } => format!(
            "rotation: expires in {}, within the {} rotation threshold",
            span(expires_in_seconds.unsigned_abs()),
            span(rotate_before_seconds.unsigned_abs())
        ),
        ReplaceReason::Requested => "replacement requested".into(),
    }
}

/// A number of seconds for people: its largest unit, and the next one when it is not zero
/// (`3h`, `1d 6h`, `20m`, `45s`).
fn span(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let Some(first) = UNITS.iter().position(|(size, _)| seconds >= *size) else {
        return "0s".into();
    };
    let (size, unit) = UNITS[first];
    let mut text = format!("{}{unit}", seconds / size);
    if let Some((next, next_unit)) = UNITS.get(first + 1) {
        let rest = seconds % size / next;
        if rest > 0 {
            text.push_str(&format!(" {rest}{next_unit}"));
        }
    }
    text
}

/// A value on one line: strings quoted, structures as compact JSON, absent as `null`.
fn show(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => "null".to_string(),
        Some(v) => v.to_string(),
    }
}

/// The stable machine form: every change with address, kind, action, before, after, plus the
/// summary and drift.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_in_their_two_largest_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(45), "45s");
        assert_eq!(span(1_200), "20m");
        assert_eq!(span(150), "2m 30s");
        assert_eq!(span(10_800), "3h");
        assert_eq!(span(11_100), "3h 5m");
        assert_eq!(span(86_400), "1d");
        assert_eq!(span(86_700), "1d");
        assert_eq!(span(518_400 + 7_200), "6d 2h");
    }
}
