//! `brickstack schedule`: an environment's `[sleep.schedule]` rendered as crontab lines and
//! systemd units that run `brickstack sleep` and `brickstack wake`. Pure: the command resolves the
//! paths and reads the spec; this module only turns values into text.

use std::fmt::{self, Write};

use brickstack_spec::Schedule;

/// Which scheduler the output is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleFormat {
    /// Crontab lines (cronie's `CRON_TZ`)
    Cron,
    /// systemd service and timer units
    Systemd,
    /// Both
    All,
}

/// How the scheduled jobs call brickstack.
#[derive(Debug)]
pub struct Invocation<'a> {
    /// The environment's name: the jobs run `brickstack sleep -e <environment>`.
    pub environment: &'a str,
    /// Absolute directory the jobs run in; it holds `environments/<environment>.toml`.
    pub workdir: &'a str,
    /// The `brickstack` executable: an absolute path, or a name looked up on the scheduler's `PATH`.
    pub binary: &'a str,
}

/// Why a schedule cannot be rendered.
#[derive(Debug, PartialEq, Eq)]
pub enum RenderError {
    /// A time, day or path the spec or the command should have refused.
    Invalid { what: &'static str, value: String },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Invalid { what, value } => write!(f, "{what} `{}`", value.escape_debug()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Sleep,
    Wake,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Sleep => "sleep",
            Action::Wake => "wake",
        }
    }
}

/// One job: an action at a local time on the schedule's days.
#[derive(Debug, Clone, Copy)]
struct Job {
    action: Action,
    hour: u8,
    minute: u8,
}

/// Days of the week, Monday first (the spec's order and systemd's).
type Days = [bool; 7];

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// Cron numbers the days from Sunday = 0, so a run of days cannot go on past Saturday.
const CRON_DAYS: [u8; 7] = [1, 2, 3, 4, 5, 6, 0];
const SATURDAY: usize = 5;

/// Renders `schedule` for `format`, starting with a comment header saying what it is.
pub fn render(
    schedule: &Schedule,
    invocation: &Invocation<'_>,
    format: ScheduleFormat,
) -> Result<String, RenderError> {
    let jobs = [
        job(Action::Sleep, &schedule.sleep_at)?,
        job(Action::Wake, &schedule.wake_at)?,
    ];
    let days = days(&schedule.days)?;
    if !invocation.workdir.starts_with('/') || has_control(invocation.workdir) {
        return Err(invalid("working directory", invocation.workdir));
    }
    if invocation.binary.is_empty() || has_control(invocation.binary) {
        return Err(invalid("brickstack executable", invocation.binary));
    }
    let zone = &schedule.time_zone;
    let mut out = header(&jobs, &days, zone, invocation);
    if matches!(format, ScheduleFormat::Cron | ScheduleFormat::All) {
        out.push('\n');
        out.push_str(&crontab(&jobs, &days, zone, invocation));
    }
    if matches!(format, ScheduleFormat::Systemd | ScheduleFormat::All) {
        out.push('\n');
        out.push_str(&systemd(&jobs, &days, zone, invocation));
    }
    Ok(out)
}

fn header(jobs: &[Job], days: &Days, zone: &str, inv: &Invocation<'_>) -> String {
    let env = inv.environment;
    let on = systemd_days(days).unwrap_or_else(|| "every day".to_string());
    let mut out = format!("# brickstack sleep schedule for environment `{env}`\n");
    for job in jobs {
        let _ = writeln!(
            out,
            "#   {on} at {:02}:{:02} {zone}: brickstack {} -e {env}",
            job.hour,
            job.minute,
            job.action.name(),
        );
    }
    let _ = writeln!(
        out,
        "# The jobs run `{}` in `{}`, which must hold\n\
         # `environments/{env}.toml`, without your shell's environment variables: AWS credentials\n\
         # must come from an instance profile or the running user's `~/.aws`.",
        inv.binary, inv.workdir,
    );
    out
}

fn crontab(jobs: &[Job], days: &Days, zone: &str, inv: &Invocation<'_>) -> String {
    let mut out = String::from(
        "# crontab: run `crontab -e` and paste these lines at its end (`CRON_TZ` sets the zone of\n\
         # every line below it). cronie (RHEL, Fedora, Amazon Linux, Arch) honours `CRON_TZ`; the cron\n\
         # of Debian and Ubuntu ignores it and would read the times in the system's zone: use the\n\
         # systemd timers there.\n",
    );
    let _ = writeln!(out, "CRON_TZ={zone}");
    let dow = cron_days(days);
    for job in jobs {
        let command = format!(
            "cd {} && {} {} -e {}",
            sh_quote(inv.workdir),
            sh_quote(inv.binary),
            job.action.name(),
            inv.environment
        );
        // An unescaped `%` ends a cron command; `\%` is a literal one.
        let command = command.replace('%', "\\%");
        let _ = writeln!(out, "{} {} * * {dow} {command}", job.minute, job.hour);
    }
    out
}

fn systemd(jobs: &[Job], days: &Days, zone: &str, inv: &Invocation<'_>) -> String {
    let env = inv.environment;
    let unit = |job: &Job| format!("brickstack-{env}-{}", job.action.name());
    let mut out =
        String::from("# systemd: save each unit below as the file named above it, then run\n");
    let _ = writeln!(out, "#   systemctl daemon-reload");
    let timers: Vec<String> = jobs.iter().map(|j| format!("{}.timer", unit(j))).collect();
    let _ = writeln!(out, "#   systemctl enable --now {}", timers.join(" "));
    out.push_str(
        "# A time zone in `OnCalendar=` needs a systemd that accepts one: check the line with\n\
         # `systemd-analyze calendar`. The services run as root; add `User=` to run them as another\n\
         # user. `Persistent=true` runs at boot a job missed while the machine was off; if both were\n\
         # missed, both run then, in no set order.\n",
    );
    let on_days = systemd_days(days)
        .map(|d| format!("{d} "))
        .unwrap_or_default();
    for job in jobs {
        let name = unit(job);
        let action = job.action.name();
        let _ = write!(
            out,
            "\n# /etc/systemd/system/{name}.service\n\
             [Unit]\n\
             Description=brickstack {action} -e {env}\n\
             Wants=network-online.target\n\
             After=network-online.target\n\
             \n\
             [Service]\n\
             Type=oneshot\n\
             WorkingDirectory={}\n\
             ExecStart={} {action} -e {env}\n",
            systemd_escape(inv.workdir),
            systemd_word(inv.binary),
        );
        let _ = write!(
            out,
            "\n# /etc/systemd/system/{name}.timer\n\
             [Unit]\n\
             Description=brickstack {action} -e {env} on schedule\n\
             \n\
             [Timer]\n\
             OnCalendar={on_days}*-*-* {:02}:{:02}:00 {zone}\n\
             Persistent=true\n\
             Unit={name}.service\n\
             \n\
             [Install]\n\
             WantedBy=timers.target\n",
            job.hour, job.minute,
        );
    }
    out
}

fn job(action: Action, at: &str) -> Result<Job, RenderError> {
    let parsed = at.split_once(':').and_then(|(h, m)| {
        let (hour, minute) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
        (h.len() == 2 && m.len() == 2 && hour < 24 && minute < 60).then_some((hour, minute))
    });
    match parsed {
        Some((hour, minute)) => Ok(Job {
            action,
            hour,
            minute,
        }),
        None => Err(invalid("time of day", at)),
    }
}

fn days(keys: &[String]) -> Result<Days, RenderError> {
    let mut days = [false; 7];
    for key in keys {
        match DAY_KEYS.iter().position(|k| k == key) {
            Some(i) => days[i] = true,
            None => return Err(invalid("day of the week", key)),
        }
    }
    if days == [false; 7] {
        return Err(invalid("list of days", "[]"));
    }
    Ok(days)
}

/// Runs of consecutive chosen days, Monday first, as inclusive index pairs. A run does not go on
/// from `break_after` to the next day, where the scheduler's numbering starts again.
fn runs(days: &Days, break_after: Option<usize>) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, &chosen) in days.iter().enumerate() {
        if !chosen {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i && break_after != Some(*end) => *end = i,
            _ => runs.push((i, i)),
        }
    }
    runs
}

/// Days as systemd's normalised form writes them (`Mon..Fri`, `Sat,Sun`); `None` for every day.
fn systemd_days(days: &Days) -> Option<String> {
    if days.iter().all(|&d| d) {
        return None;
    }
    Some(compact(&runs(days, None), "..", |i| {
        DAY_NAMES[i].to_string()
    }))
}

/// The crontab day-of-week field: `1-5`, `1,3,5`, `6,0`, `*`.
fn cron_days(days: &Days) -> String {
    if days.iter().all(|&d| d) {
        return "*".to_string();
    }
    compact(&runs(days, Some(SATURDAY)), "-", |i| {
        CRON_DAYS[i].to_string()
    })
}

/// A range for three or more days, a list for fewer (systemd writes `Sat,Sun`, not `Sat..Sun`).
fn compact(runs: &[(usize, usize)], range: &str, name: impl Fn(usize) -> String) -> String {
    let mut parts = Vec::new();
    for &(start, end) in runs {
        if end - start >= 2 {
            parts.push(format!("{}{range}{}", name(start), name(end)));
        } else {
            parts.extend((start..=end).map(&name));
        }
    }
    parts.join(",")
}

/// Quotes a word for `/bin/sh` only when it needs it.
fn sh_quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Escapes systemd's specifiers (`%`) in a unit setting's value.
fn systemd_escape(value: &str) -> String {
    value.replace('%', "%%")
}

/// One word of a systemd `ExecStart=` line: specifiers and variables escaped, quoted if needed.
fn systemd_word(word: &str) -> String {
    let escaped = systemd_escape(word)
        .replace('$', "$$")
        .replace('\\', r"\\")
        .replace('"', "\\\"");
    if word.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn invalid(what: &'static str, value: &str) -> RenderError {
    RenderError::Invalid {
        what,
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "[environment]\nname = \"dev\"\n\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n\n";

    const INVOCATION: Invocation<'static> = Invocation {
        environment: "dev",
        workdir: "/srv/brickstack",
        binary: "/usr/local/bin/brickstack",
    };

    fn schedule_of(spec: &str) -> Schedule {
        let spec = brickstack_spec::parse("test.toml", spec)
            .unwrap_or_else(|errors| panic!("{}", errors.render(false)));
        spec.sleep.schedule.expect("the spec has a schedule")
    }

    /// Renders a `[sleep.schedule]` table (after a minimal environment) in both formats.
    fn check(name: &str, table: &str) {
        let schedule = schedule_of(&format!("{HEAD}[sleep.schedule]\n{table}"));
        let out = render(&schedule, &INVOCATION, ScheduleFormat::All).unwrap();
        insta::assert_snapshot!(name, out);
    }

    #[test]
    fn dev_environment() {
        let dev = include_str!("../../../environments/dev.toml");
        let out = render(&schedule_of(dev), &INVOCATION, ScheduleFormat::All).unwrap();
        insta::assert_snapshot!("dev_environment", out);
    }

    #[test]
    fn weekend_only_in_utc() {
        check(
            "weekend_only_in_utc",
            "sleep_at = \"18:00\"\nwake_at = \"09:00\"\ndays = [\"sat\", \"sun\"]\n",
        );
    }

    #[test]
    fn every_day_in_new_york() {
        check(
            "every_day_in_new_york",
            "sleep_at = \"23:45\"\nwake_at = \"06:05\"\ntime_zone = \"America/New_York\"\n\
             days = [\"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"]\n",
        );
    }

    #[test]
    fn non_consecutive_days() {
        check(
            "non_consecutive_days",
            "sleep_at = \"19:00\"\nwake_at = \"08:00\"\ntime_zone = \"Europe/Madrid\"\n\
             days = [\"fri\", \"mon\", \"wed\"]\n",
        );
    }

    #[test]
    fn days_across_the_weekend() {
        check(
            "days_across_the_weekend",
            "sleep_at = \"22:00\"\nwake_at = \"06:00\"\ntime_zone = \"Asia/Tokyo\"\n\
             days = [\"fri\", \"sat\", \"sun\", \"mon\"]\n",
        );
    }

    #[test]
    fn one_format_at_a_time() {
        let schedule = schedule_of(&format!(
            "{HEAD}[sleep.schedule]\nsleep_at = \"20:00\"\nwake_at = \"07:30\"\n"
        ));
        let cron = render(&schedule, &INVOCATION, ScheduleFormat::Cron).unwrap();
        let systemd = render(&schedule, &INVOCATION, ScheduleFormat::Systemd).unwrap();
        let all = render(&schedule, &INVOCATION, ScheduleFormat::All).unwrap();
        assert!(
            cron.contains("CRON_TZ=UTC") && !cron.contains("[Timer]"),
            "{cron}"
        );
        assert!(
            systemd.contains("[Timer]") && !systemd.contains("CRON_TZ"),
            "{systemd}"
        );
        let header = all.split("\n\n").next().unwrap();
        assert!(cron.starts_with(header) && systemd.starts_with(header));
    }

    fn day_set(keys: &[&str]) -> Days {
        days(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn day_sets_are_compact_and_never_wrap() {
        let cases: &[(&[&str], Option<&str>, &str)] = &[
            (
                &["mon", "tue", "wed", "thu", "fri"],
                Some("Mon..Fri"),
                "1-5",
            ),
            (&["sat", "sun"], Some("Sat,Sun"), "6,0"),
            (&["mon", "wed", "fri"], Some("Mon,Wed,Fri"), "1,3,5"),
            (&["fri", "mon"], Some("Mon,Fri"), "1,5"),
            (&["mon", "mon", "tue"], Some("Mon,Tue"), "1,2"),
            (&["tue", "wed", "thu"], Some("Tue..Thu"), "2-4"),
            (&["fri", "sat", "sun"], Some("Fri..Sun"), "5,6,0"),
            (&["thu", "fri", "sat", "sun"], Some("Thu..Sun"), "4-6,0"),
            (&["sun", "mon", "tue"], Some("Mon,Tue,Sun"), "1,2,0"),
            (
                &["sat", "sun", "mon", "tue", "wed"],
                Some("Mon..Wed,Sat,Sun"),
                "1-3,6,0",
            ),
            (&["sun"], Some("Sun"), "0"),
            (&DAY_KEYS, None, "*"),
        ];
        for (keys, systemd, cron) in cases {
            let days = day_set(keys);
            assert_eq!(systemd_days(&days).as_deref(), *systemd, "{keys:?}");
            assert_eq!(cron_days(&days), *cron, "{keys:?}");
        }
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_for_systemd() {
        let schedule = schedule_of(&format!(
            "{HEAD}[sleep.schedule]\nsleep_at = \"20:00\"\nwake_at = \"07:30\"\n"
        ));
        let odd = Invocation {
            environment: "dev",
            workdir: "/srv/it's 100%",
            binary: "/opt/brick stack/$bin",
        };
        let out = render(&schedule, &odd, ScheduleFormat::All).unwrap();
        assert!(
            out.contains(r"cd '/srv/it'\''s 100\%' && '/opt/brick stack/$bin' sleep -e dev"),
            "{out}"
        );
        assert!(out.contains("WorkingDirectory=/srv/it's 100%%\n"), "{out}");
        assert!(
            out.contains("ExecStart=\"/opt/brick stack/$$bin\" sleep -e dev\n"),
            "{out}"
        );
    }

    #[test]
    fn what_cannot_be_written_is_refused() {
        let schedule = schedule_of(&format!(
            "{HEAD}[sleep.schedule]\nsleep_at = \"20:00\"\nwake_at = \"07:30\"\n"
        ));
        let relative = Invocation {
            workdir: "srv/brickstack",
            ..INVOCATION
        };
        let newline = Invocation {
            binary: "/usr/bin/brick\nstack",
            ..INVOCATION
        };
        for inv in [relative, newline] {
            assert!(
                render(&schedule, &inv, ScheduleFormat::All).is_err(),
                "{inv:?}"
            );
        }
        let mut bad = schedule.clone();
        bad.days.clear();
        assert_eq!(
            render(&bad, &INVOCATION, ScheduleFormat::Cron),
            Err(invalid("list of days", "[]"))
        );
        bad = schedule.clone();
        bad.wake_at = "7:30".into();
        assert_eq!(
            render(&bad, &INVOCATION, ScheduleFormat::Cron),
            Err(invalid("time of day", "7:30"))
        );
    }

    /// Where `systemd-analyze` is installed, every `OnCalendar=` line parses and is already in
    /// systemd's normalised form (it prints `Original form:` only for a line it rewrote).
    #[test]
    fn on_calendar_is_systemds_normalised_form() {
        let Ok(version) = std::process::Command::new("systemd-analyze")
            .arg("--version")
            .output()
        else {
            eprintln!("systemd-analyze is not installed: OnCalendar lines not checked");
            return;
        };
        assert!(version.status.success());
        let tables = [
            "sleep_at = \"20:00\"\nwake_at = \"07:30\"\ntime_zone = \"Europe/Madrid\"\n",
            "sleep_at = \"18:00\"\nwake_at = \"09:00\"\ndays = [\"sat\", \"sun\"]\n",
            "sleep_at = \"23:45\"\nwake_at = \"06:05\"\ntime_zone = \"America/New_York\"\n\
             days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n",
            "sleep_at = \"19:00\"\nwake_at = \"08:00\"\ndays = [\"mon\", \"wed\", \"fri\"]\n",
            "sleep_at = \"22:00\"\nwake_at = \"06:00\"\ntime_zone = \"Asia/Tokyo\"\n\
             days = [\"fri\", \"sat\", \"sun\", \"mon\", \"tue\"]\n",
        ];
        for table in tables {
            let schedule = schedule_of(&format!("{HEAD}[sleep.schedule]\n{table}"));
            let out = render(&schedule, &INVOCATION, ScheduleFormat::Systemd).unwrap();
            for line in out.lines().filter_map(|l| l.strip_prefix("OnCalendar=")) {
                let check = std::process::Command::new("systemd-analyze")
                    .args(["calendar", line])
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&check.stdout);
                assert!(
                    check.status.success(),
                    "{line}: {}",
                    String::from_utf8_lossy(&check.stderr)
                );
                assert!(!stdout.contains("Original form"), "{line}:\n{stdout}");
            }
        }
    }
}
