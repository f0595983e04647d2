//! The status page (`/`): server-rendered HTML5 from a [`StatusView`], no script, inline CSS, and a
//! `<meta http-equiv="refresh">` so an open tab follows the monitor.
//!
//! Everything the view holds comes from Databricks or the records (cluster names, codes, notes,
//! poll errors), so every text and attribute value goes through [`escape`]. Rows carry stable
//! `data-*` attributes for tests and scripts that read the page:
//!
//! * header: `#environment`, `#role[data-role=active|standby]`, `#leader`,
//!   `#auto-remediation[data-enabled=true|false]`, `#last-poll`;
//! * per workspace `section.workspace[data-workspace=ID]` with `.poll-error`,
//!   `tr[data-cluster=ID][data-health=…][data-state=…]` and
//!   `tr[data-ticket=RCA-…][data-status=…]`;
//! * `#breakers tr[data-breaker=SCOPE][data-state=open|half_open]`;
//! * `#recoveries tr[data-ticket=RCA-…][data-outcome=closed|failed]`.
//!
//! Times are UTC, ISO 8601 to the second, in `<time datetime>`.

use std::fmt::Write;

use time::OffsetDateTime;
use time::macros::format_description;

use crate::view::{
    BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, StatusView, TicketRow, WorkspaceView,
};

/// The page for `view`, refreshing itself every `refresh_seconds` (at least 1).
pub fn render_status_page(view: &StatusView, refresh_seconds: u64) -> String {
    let mut page = String::with_capacity(16 * 1024);
    let env = escape(&view.environment);
    let refresh = refresh_seconds.max(1);
    // `write!` to a `String` cannot fail.
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"{refresh}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{env} · brickstack monitor</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    header(&mut page, view);
    page.push_str("<main>\n");
    page.push_str("<section id=\"workspaces\">\n");
    let _ = writeln!(page, "<h2>Workspaces ({})</h2>", view.workspaces.len());
    if view.workspaces.is_empty() {
        page.push_str("<p class=\"empty\">No workspace polled yet.</p>\n");
    }
    for workspace in &view.workspaces {
        workspace_section(&mut page, workspace);
    }
    page.push_str("</section>\n");
    breakers(&mut page, &view.breakers);
    recoveries(&mut page, &view.recent_recoveries);
    let _ = write!(
        page,
        "</main>\n<footer>Page made at {}; it reloads every {refresh} s. \
         Counts and timings: <code>brickstack monitor report -e {env}</code>, \
         <a href=\"/monitor/status.json\">status.json</a>, <a href=\"/metrics\">metrics</a>.\
         </footer>\n</body>\n</html>\n",
        time_html(view.generated_at_ms)
    );
    page
}

fn header(page: &mut String, view: &StatusView) {
    let (role, role_text) = if view.active {
        ("active", "active: this replica polls and repairs")
    } else {
        ("standby", "standby: another replica acts")
    };
    let leader = view
        .leader
        .as_deref()
        .map_or_else(|| "<span class=\"muted\">unknown</span>".into(), escape);
    let (enabled, remediation) = if view.auto_remediation {
        ("true", "on")
    } else {
        ("false", "off: tickets only")
    };
    let last_poll = view
        .last_poll_ms
        .map_or_else(|| "<span class=\"muted\">not yet</span>".into(), time_html);
    let _ = write!(
        page,
        "<header>\n<h1>Cluster monitor · <span id=\"environment\">{env}</span></h1>\n<dl class=\"summary\">\n\
         <div><dt>Replica</dt><dd id=\"role\" data-role=\"{role}\"><span class=\"badge role-{role}\">{role_text}</span></dd></div>\n\
         <div><dt>Leader</dt><dd id=\"leader\">{leader}</dd></div>\n\
         <div><dt>Auto-remediation</dt><dd id=\"auto-remediation\" data-enabled=\"{enabled}\">{remediation}</dd></div>\n\
         <div><dt>Last poll</dt><dd id=\"last-poll\">{last_poll}</dd></div>\n\
         </dl>\n</header>\n",
        env = escape(&view.environment),
    );
}

fn workspace_section(page: &mut String, workspace: &WorkspaceView) {
    let id = workspace.workspace_id;
    let _ = writeln!(
        page,
        "<section class=\"workspace\" id=\"workspace-{id}\" data-workspace=\"{id}\">\n\
         <h3>{} <span class=\"muted\">workspace {id}</span></h3>",
        escape(&workspace.name)
    );
    if let Some(error) = &workspace.poll_error {
        let _ = writeln!(
            page,
            "<p class=\"poll-error\" role=\"alert\">The last poll of this workspace failed: {}</p>",
            escape(error)
        );
    }
    let _ = writeln!(
        page,
        "<table class=\"clusters\">\n<caption>Clusters ({})</caption>\n<thead><tr><th>Name</th><th>Cluster id</th><th>State</th><th>Health</th><th>Last termination</th><th>Remediable</th></tr></thead>\n<tbody>",
        workspace.clusters.len()
    );
    if workspace.clusters.is_empty() {
        page.push_str("<tr class=\"empty\"><td colspan=\"6\">No clusters.</td></tr>\n");
    }
    for cluster in &workspace.clusters {
        cluster_row(page, cluster);
    }
    page.push_str("</tbody>\n</table>\n");
    let _ = writeln!(
        page,
        "<table class=\"tickets\">\n<caption>Open tickets ({})</caption>\n<thead><tr><th>Ticket</th><th>Cluster</th><th>Error type</th><th>Code</th><th>Status</th><th>Actions</th><th>Opened at</th><th>Note</th></tr></thead>\n<tbody>",
        workspace.open_tickets.len()
    );
    if workspace.open_tickets.is_empty() {
        page.push_str("<tr class=\"empty\"><td colspan=\"8\">No open tickets.</td></tr>\n");
    }
    for ticket in &workspace.open_tickets {
        ticket_row(page, ticket);
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn health_name(health: ClusterHealth) -> &'static str {
    match health {
        ClusterHealth::Healthy => "healthy",
        ClusterHealth::Recovering => "recovering",
        ClusterHealth::Failed => "failed",
        ClusterHealth::Changing => "changing",
    }
}

fn cluster_row(page: &mut String, cluster: &ClusterRow) {
    let health = health_name(cluster.health);
    let _ = writeln!(
        page,
        "<tr data-cluster=\"{id}\" data-health=\"{health}\" data-state=\"{state}\">\
         <td class=\"name\">{name}</td><td><code>{id}</code></td><td>{state}</td>\
         <td><span class=\"badge health-{health}\">{health}</span></td>\
         <td>{code}</td><td>{remediable}</td></tr>",
        id = escape(&cluster.cluster_id),
        state = escape(&cluster.state),
        name = escape(&cluster.cluster_name),
        code = optional_code(cluster.termination_code.as_deref()),
        remediable = if cluster.remediable {
            "yes"
        } else {
            "<span class=\"muted\">no: ticket only</span>"
        },
    );
}

fn ticket_row(page: &mut String, ticket: &TicketRow) {
    let status = escape(&ticket.status);
    let _ = writeln!(
        page,
        "<tr data-ticket=\"{id}\" data-status=\"{status}\" data-cluster=\"{cluster_id}\">\
         <td><code>{id}</code></td>\
         <td>{cluster_name} <span class=\"muted\"><code>{cluster_id}</code></span></td>\
         <td>{error_type}</td><td><code>{code}</code></td>\
         <td><span class=\"badge status-{status}\">{status_text}</span></td>\
         <td>{actions}</td><td>{opened}</td><td>{note}</td></tr>",
        id = escape(&ticket.ticket_id),
        cluster_id = escape(&ticket.cluster_id),
        cluster_name = escape(&ticket.cluster_name),
        error_type = escape(&ticket.error_type),
        code = escape(&ticket.code),
        status_text = escape(&ticket.status.replace('_', " ")),
        actions = actions(&ticket.actions),
        opened = time_html(ticket.opened_at_ms),
        note = ticket
            .note
            .as_deref()
            .map_or_else(|| "<span class=\"muted\">—</span>".into(), escape),
    );
}

fn breakers(page: &mut String, breakers: &[BreakerRow]) {
    let _ = writeln!(
        page,
        "<section id=\"breakers\">\n<h2>Open circuit breakers ({})</h2>\n\
         <table>\n<thead><tr><th>Scope</th><th>State</th><th>Failures in window</th><th>Opened at</th><th>Retry at</th></tr></thead>\n<tbody>",
        breakers.len()
    );
    if breakers.is_empty() {
        page.push_str("<tr class=\"empty\"><td colspan=\"5\">Every breaker is closed.</td></tr>\n");
    }
    for breaker in breakers {
        let state = escape(&breaker.state);
        let _ = writeln!(
            page,
            "<tr data-breaker=\"{scope}\" data-state=\"{state}\">\
             <td><code>{scope}</code></td>\
             <td><span class=\"badge breaker-{state}\">{state_text}</span></td>\
             <td>{failures}</td><td>{opened}</td><td>{retry}</td></tr>",
            scope = escape(&breaker.scope),
            state_text = escape(&breaker.state.replace('_', "-")),
            failures = breaker.failures,
            opened = time_html(breaker.opened_at_ms),
            retry = time_html(breaker.retry_at_ms),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn recoveries(page: &mut String, recoveries: &[RecoveryRow]) {
    let _ = writeln!(
        page,
        "<section id=\"recoveries\">\n<h2>Recent recoveries ({})</h2>\n\
         <table>\n<thead><tr><th>Ticket</th><th>Workspace</th><th>Cluster</th><th>Error type</th><th>Actions</th><th>Outcome</th><th>Detected at</th><th>Finished at</th><th>Took</th></tr></thead>\n<tbody>",
        recoveries.len()
    );
    if recoveries.is_empty() {
        page.push_str("<tr class=\"empty\"><td colspan=\"9\">No recovery yet.</td></tr>\n");
    }
    for recovery in recoveries {
        let outcome = escape(&recovery.outcome);
        let outcome_text = match recovery.outcome.as_str() {
            "closed" => "recovered".to_string(),
            other => escape(other),
        };
        let _ = writeln!(
            page,
            "<tr data-ticket=\"{id}\" data-outcome=\"{outcome}\" data-duration-ms=\"{ms}\">\
             <td><code>{id}</code></td><td>{workspace}</td><td>{cluster}</td><td>{error_type}</td>\
             <td>{actions}</td><td><span class=\"badge status-{outcome}\">{outcome_text}</span></td>\
             <td>{detected}</td><td>{finished}</td><td class=\"duration\">{took}</td></tr>",
            id = escape(&recovery.ticket_id),
            ms = recovery.duration_ms.max(0),
            workspace = escape(&recovery.workspace),
            cluster = escape(&recovery.cluster_name),
            error_type = escape(&recovery.error_type),
            actions = actions(&recovery.actions),
            detected = time_html(recovery.detected_at_ms),
            finished = time_html(recovery.finished_at_ms),
            took = duration_text(recovery.duration_ms),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn optional_code(code: Option<&str>) -> String {
    code.map_or_else(
        || "<span class=\"muted\">—</span>".into(),
        |c| format!("<code>{}</code>", escape(c)),
    )
}

fn actions(actions: &[String]) -> String {
    if actions.is_empty() {
        return "<span class=\"muted\">none</span>".into();
    }
    actions
        .iter()
        .map(|a| format!("<code>{}</code>", escape(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `<time datetime="2026-12-07T10:15:30Z">2026-12-07T10:15:30Z</time>`; an instant `time`
/// cannot represent shows as its milliseconds.
fn time_html(ms: i64) -> String {
    match iso(ms) {
        Some(text) => format!("<time datetime=\"{text}\">{text}</time>"),
        None => format!("<span class=\"muted\">{ms} ms since 1970</span>"),
    }
}

/// Epoch milliseconds as UTC ISO 8601 to the second.
fn iso(ms: i64) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .ok()
}

/// `42 s`, `3 min 5 s`, `2 h 7 min`, `1 d 4 h`: two units at most, whole seconds.
pub(crate) fn duration_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, s) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60);
    let pair = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big} {big_unit}")
        } else {
            format!("{big} {big_unit} {small} {small_unit}")
        }
    };
    if d > 0 {
        pair(d, "d", h, "h")
    } else if h > 0 {
        pair(h, "h", m, "min")
    } else if m > 0 {
        pair(m, "min", s, "s")
    } else {
        format!("{s} s")
    }
}

/// Text safe in element content and in quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
:root{color-scheme:light;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#ffffff;--head:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1200px;margin:0 auto;padding:16px 24px}
header{border-bottom:1px solid var(--line)}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:18px;margin:28px 0 8px}
h3{font-size:16px;margin:20px 0 8px}
dl.summary{display:flex;flex-wrap:wrap;gap:8px 32px;margin:0}
dl.summary div{display:flex;gap:8px}
dt{color:var(--muted)}
dd{margin:0;font-weight:600}
table{width:100%;border-collapse:collapse;margin:8px 0 16px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--head);font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.muted{color:var(--muted);font-weight:400}
time,.badge,.duration,td:first-child code{white-space:nowrap}
.empty td,p.empty{color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:#6e7781}
.health-healthy,.status-closed,.role-active{background:#1a7f37}
.health-recovering,.status-in_progress,.breaker-half_open{background:#9a6700}
.health-failed,.status-failed,.breaker-open{background:#cf222e}
.health-changing,.status-open,.role-standby{background:#0969da}
.poll-error{border-left:4px solid #cf222e;background:#ffebe9;padding:8px 12px;margin:8px 0}
section.workspace{border-top:1px solid var(--line);margin-top:12px}
footer{color:var(--muted);border-top:1px solid var(--line);font-size:12px}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{BreakerRow, ClusterHealth, ClusterRow, RecoveryRow, TicketRow};

    /// 2026-12-07T10:00:00Z.
    const AT: i64 = 1_796_637_600_000;

    fn view() -> StatusView {
        StatusView {
            environment: "prod".into(),
            generated_at_ms: AT + 65_000,
            active: true,
            leader: Some("host-a:7300".into()),
            auto_remediation: true,
            last_poll_ms: Some(AT + 60_000),
            workspaces: vec![
                WorkspaceView {
                    workspace_id: 1001,
                    name: "prod-eu-datateam".into(),
                    poll_error: None,
                    clusters: vec![
                        ClusterRow {
                            cluster_id: "0101-aaaa".into(),
                            cluster_name: "etl-shared".into(),
                            state: "RUNNING".into(),
                            health: ClusterHealth::Healthy,
                            termination_code: None,
                            remediable: true,
                        },
                        ClusterRow {
                            cluster_id: "0101-bbbb".into(),
                            cluster_name: "ml-gpu".into(),
                            state: "TERMINATED".into(),
                            health: ClusterHealth::Failed,
                            termination_code: Some("DRIVER_UNREACHABLE".into()),
                            remediable: false,
                        },
                    ],
                    open_tickets: vec![TicketRow {
                        ticket_id: "RCA-20261207-002".into(),
                        cluster_id: "0101-bbbb".into(),
                        cluster_name: "ml-gpu".into(),
                        error_type: "DatabricksDriverNotResponding".into(),
                        code: "DRIVER_UNREACHABLE".into(),
                        status: "open".into(),
                        actions: vec![],
                        opened_at_ms: AT + 30_000,
                        note: Some("out of scope: ticket only".into()),
                    }],
                },
                WorkspaceView {
                    workspace_id: 1002,
                    name: "prod-us".into(),
                    poll_error: Some("clusters/list: 503 TEMPORARILY_UNAVAILABLE".into()),
                    clusters: vec![],
                    open_tickets: vec![],
                },
            ],
            breakers: vec![BreakerRow {
                scope: "error_type:DatabricksResourceExhausted".into(),
                state: "open".into(),
                failures: 3,
                opened_at_ms: AT,
                retry_at_ms: AT + 900_000,
            }],
            recent_recoveries: vec![RecoveryRow {
                ticket_id: "RCA-20261207-001".into(),
                workspace: "prod-eu-datateam".into(),
                cluster_name: "etl-shared".into(),
                error_type: "DatabricksResourceExhausted".into(),
                actions: vec![
                    "restart_with_fallback:on_demand".into(),
                    "start_cluster".into(),
                ],
                outcome: "closed".into(),
                detected_at_ms: AT - 600_000,
                finished_at_ms: AT - 600_000 + 185_000,
                duration_ms: 185_000,
            }],
        }
    }

    /// The whole page for a fixed view, byte for byte: a change to the page shows here as a diff
    /// to read. (An inline snapshot: this crate has no `insta`.)
    #[test]
    fn page_snapshot() {
        let page = render_status_page(&view(), 30);
        let body = &page[page.find("<body>").expect("a body")..];
        let expected = EXPECTED_BODY;
        if body != expected {
            let first = body
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "the page changed from line {} of the body:\n--- expected\n{}\n--- got\n{}\n--- whole body\n{body}",
                first + 1,
                expected
                    .lines()
                    .skip(first)
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n"),
                body.lines()
                    .skip(first)
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        let head = &page[..page.find("<body>").expect("a body")];
        assert!(head.starts_with("<!doctype html>\n<html lang=\"en\">\n<head>\n"));
        assert!(head.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
        assert!(head.contains("<title>prod · brickstack monitor</title>"));
        assert!(head.contains(&format!("<style>{STYLE}</style>")));
    }

    const EXPECTED_BODY: &str = r#"<body>
<header>
<h1>Cluster monitor · <span id="environment">prod</span></h1>
<dl class="summary">
<div><dt>Replica</dt><dd id="role" data-role="active"><span class="badge role-active">active: this replica polls and repairs</span></dd></div>
<div><dt>Leader</dt><dd id="leader">host-a:7300</dd></div>
<div><dt>Auto-remediation</dt><dd id="auto-remediation" data-enabled="true">on</dd></div>
<div><dt>Last poll</dt><dd id="last-poll"><time datetime="2026-12-07T10:01:00Z">2026-12-07T10:01:00Z</time></dd></div>
</dl>
</header>
<main>
<section id="workspaces">
<h2>Workspaces (2)</h2>
<section class="workspace" id="workspace-1001" data-workspace="1001">
<h3>prod-eu-datateam <span class="muted">workspace 1001</span></h3>
<table class="clusters">
<caption>Clusters (2)</caption>
<thead><tr><th>Name</th><th>Cluster id</th><th>State</th><th>Health</th><th>Last termination</th><th>Remediable</th></tr></thead>
<tbody>
<tr data-cluster="0101-aaaa" data-health="healthy" data-state="RUNNING"><td class="name">etl-shared</td><td><code>0101-aaaa</code></td><td>RUNNING</td><td><span class="badge health-healthy">healthy</span></td><td><span class="muted">—</span></td><td>yes</td></tr>
<tr data-cluster="0101-bbbb" data-health="failed" data-state="TERMINATED"><td class="name">ml-gpu</td><td><code>0101-bbbb</code></td><td>TERMINATED</td><td><span class="badge health-failed">failed</span></td><td><code>DRIVER_UNREACHABLE</code></td><td><span class="muted">no: ticket only</span></td></tr>
</tbody>
</table>
<table class="tickets">
<caption>Open tickets (1)</caption>
<thead><tr><th>Ticket</th><th>Cluster</th><th>Error type</th><th>Code</th><th>Status</th><th>Actions</th><th>Opened at</th><th>Note</th></tr></thead>
<tbody>
<tr data-ticket="RCA-20261207-002" data-status="open" data-cluster="0101-bbbb"><td><code>RCA-20261207-002</code></td><td>ml-gpu <span class="muted"><code>0101-bbbb</code></span></td><td>DatabricksDriverNotResponding</td><td><code>DRIVER_UNREACHABLE</code></td><td><span class="badge status-open">open</span></td><td><span class="muted">none</span></td><td><time datetime="2026-12-07T10:00:30Z">2026-12-07T10:00:30Z</time></td><td>out of scope: ticket only</td></tr>
</tbody>
</table>
</section>
<section class="workspace" id="workspace-1002" data-workspace="1002">
<h3>prod-us <span class="muted">workspace 1002</span></h3>
<p class="poll-error" role="alert">The last poll of this workspace failed: clusters/list: 503 TEMPORARILY_UNAVAILABLE</p>
<table class="clusters">
<caption>Clusters (0)</caption>
<thead><tr><th>Name</th><th>Cluster id</th><th>State</th><th>Health</th><th>Last termination</th><th>Remediable</th></tr></thead>
<tbody>
<tr class="empty"><td colspan="6">No clusters.</td></tr>
</tbody>
</table>
<table class="tickets">
<caption>Open tickets (0)</caption>
<thead><tr><th>Ticket</th><th>Cluster</th><th>Error type</th><th>Code</th><th>Status</th><th>Actions</th><th>Opened at</th><th>Note</th></tr></thead>
<tbody>
<tr class="empty"><td colspan="8">No open tickets.</td></tr>
</tbody>
</table>
</section>
</section>
<section id="breakers">
<h2>Open circuit breakers (1)</h2>
<table>
<thead><tr><th>Scope</th><th>State</th><th>Failures in window</th><th>Opened at</th><th>Retry at</th></tr></thead>
<tbody>
<tr data-breaker="error_type:DatabricksResourceExhausted" data-state="open"><td><code>error_type:DatabricksResourceExhausted</code></td><td><span class="badge breaker-open">open</span></td><td>3</td><td><time datetime="2026-12-07T10:00:00Z">2026-12-07T10:00:00Z</time></td><td><time datetime="2026-12-07T10:15:00Z">2026-12-07T10:15:00Z</time></td></tr>
</tbody>
</table>
</section>
<section id="recoveries">
<h2>Recent recoveries (1)</h2>
<table>
<thead><tr><th>Ticket</th><th>Workspace</th><th>Cluster</th><th>Error type</th><th>Actions</th><th>Outcome</th><th>Detected at</th><th>Finished at</th><th>Took</th></tr></thead>
<tbody>
<tr data-ticket="RCA-20261207-001" data-outcome="closed" data-duration-ms="185000"><td><code>RCA-20261207-001</code></td><td>prod-eu-datateam</td><td>etl-shared</td><td>DatabricksResourceExhausted</td><td><code>restart_with_fallback:on_demand</code> <code>start_cluster</code></td><td><span class="badge status-closed">recovered</span></td><td><time datetime="2026-12-07T09:50:00Z">2026-12-07T09:50:00Z</time></td><td><time datetime="2026-12-07T09:53:05Z">2026-12-07T09:53:05Z</time></td><td class="duration">3 min 5 s</td></tr>
</tbody>
</table>
</section>
</main>
<footer>Page made at <time datetime="2026-12-07T10:01:05Z">2026-12-07T10:01:05Z</time>; it reloads every 30 s. Counts and timings: <code>brickstack monitor report -e prod</code>, <a href="/monitor/status.json">status.json</a>, <a href="/metrics">metrics</a>.</footer>
</body>
</html>
"#;

    #[test]
    fn hostile_names_are_escaped_in_text_and_attributes() {
        let hostile = "<script>alert('x')</script>\" onmouseover=\"steal()&";
        let mut view = view();
        view.environment = hostile.into();
        view.leader = Some(hostile.into());
        let workspace = &mut view.workspaces[0];
        workspace.name = hostile.into();
        workspace.poll_error = Some(hostile.into());
        workspace.clusters[0].cluster_id = hostile.into();
        workspace.clusters[0].cluster_name = hostile.into();
        workspace.clusters[0].state = hostile.into();
        workspace.clusters[1].termination_code = Some(hostile.into());
        let ticket = &mut workspace.open_tickets[0];
        ticket.ticket_id = hostile.into();
        ticket.cluster_name = hostile.into();
        ticket.error_type = hostile.into();
        ticket.code = hostile.into();
        ticket.status = hostile.into();
        ticket.actions = vec![hostile.into()];
        ticket.note = Some(hostile.into());
        view.breakers[0].scope = hostile.into();
        view.breakers[0].state = hostile.into();
        let recovery = &mut view.recent_recoveries[0];
        recovery.workspace = hostile.into();
        recovery.cluster_name = hostile.into();
        recovery.outcome = hostile.into();
        recovery.actions = vec![hostile.into()];

        let page = render_status_page(&view, 30);
        assert!(!page.contains("<script"), "a script tag got through");
        assert!(!page.contains("alert('x')"), "a quote got through");
        assert!(!page.contains("\" onmouseover"), "an attribute got out");
        let escaped =
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;steal()&amp;";
        assert!(page.contains(&format!("data-cluster=\"{escaped}\"")));
        assert!(page.contains(&format!("data-breaker=\"{escaped}\"")));
        assert!(page.contains(&format!("<title>{escaped} · brickstack monitor</title>")));
        // Every place the hostile text was put shows it, escaped.
        assert!(page.matches(escaped).count() >= 20, "{page}");
        // Tags are only the page's own: each `<` starts a tag name the page writes.
        let allowed = [
            "!doctype", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2",
            "h3", "span", "dl", "div", "dt", "dd", "time", "main", "section", "p", "table",
            "caption", "thead", "tbody", "tr", "th", "td", "code", "footer", "a",
        ];
        for tag in page.split('<').skip(1) {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            assert!(allowed.contains(&name.as_str()), "unexpected tag <{name}");
        }
    }

    #[test]
    fn standby_unknown_leader_and_no_poll_yet_are_said_plainly() {
        let view = StatusView {
            environment: "dev".into(),
            active: false,
            auto_remediation: false,
            ..StatusView::default()
        };
        let page = render_status_page(&view, 0);
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"1\">"));
        assert!(page.contains("data-role=\"standby\""));
        assert!(page.contains("<dd id=\"leader\"><span class=\"muted\">unknown</span></dd>"));
        assert!(page.contains("data-enabled=\"false\">off: tickets only</dd>"));
        assert!(page.contains("<dd id=\"last-poll\"><span class=\"muted\">not yet</span></dd>"));
        assert!(page.contains("No workspace polled yet."));
        assert!(page.contains("Every breaker is closed."));
        assert!(page.contains("No recovery yet."));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        for (ms, text) in [
            (-5, "0 s"),
            (999, "0 s"),
            (42_000, "42 s"),
            (60_000, "1 min"),
            (185_000, "3 min 5 s"),
            (3_600_000, "1 h"),
            (7_620_000, "2 h 7 min"),
            (100_800_000, "1 d 4 h"),
        ] {
            assert_eq!(duration_text(ms), text, "{ms} ms");
        }
    }

    #[test]
    fn times_are_utc_iso_8601_and_out_of_range_ones_do_not_panic() {
        assert_eq!(iso(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(iso(AT + 1_999).as_deref(), Some("2026-12-07T10:00:01Z"));
        assert_eq!(iso(i64::MAX), None);
        assert!(time_html(i64::MIN).contains("ms since 1970"));
    }
}
