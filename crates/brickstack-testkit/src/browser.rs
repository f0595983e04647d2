//! A headless Chromium for tests of server-rendered pages (the monitor's status page): the DOM
//! as the browser built it, and a PNG screenshot to look at.
//!
//! * Which Chromium: `BRICKSTACK_CHROMIUM` (a path; set but wrong is an error, never a silent
//!   fallback), else `/usr/bin/chromium`, `/usr/bin/chromium-browser`, else `chromium` or
//!   `chromium-browser` on `PATH`. `scripts/test.sh` installs Debian's `chromium` when missing
//!   and exports the variable.
//! * Skip policy, as for the emulators ([`require_moto`](crate::require_moto)):
//!   [`require_chromium`] panics under `CI=true` when there is no browser, and otherwise prints a
//!   loud `SKIPPED` line and returns `None`.
//! * Every run gets a fresh profile (`--user-data-dir` in a temporary directory, removed after),
//!   no network of its own (`--disable-background-networking`, no component updates, no sync,
//!   no QUIC), and a deadline: a browser still running then is killed with its whole process
//!   group, so a hung page fails the test instead of hanging it.
//! * Screenshots: tests write them under [`artifacts_dir`], `target/test-artifacts/`, kept after
//!   the run (CI can upload the directory) and overwritten by the next.
//!
//! The functions are `async` (tokio's process API) so a test can serve the page from the same
//! runtime it browses it from.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Variable naming the Chromium binary to use.
pub const CHROMIUM_VAR: &str = "BRICKSTACK_CHROMIUM";

/// How long one browser run may take unless [`Chromium::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where Chromium is looked for after [`CHROMIUM_VAR`], in order.
const CANDIDATES: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const PATH_NAMES: [&str; 2] = ["chromium", "chromium-browser"];

/// Why a browser run gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("no Chromium found ({searched})")]
    NotFound { searched: String },
    #[error("starting `{path}`: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Chromium did not finish `{url}` within {seconds}s; it was killed")]
    Timeout { url: String, seconds: u64 },
    #[error("Chromium exited with {status} on `{url}`; its last output:\n{stderr_tail}")]
    Failed {
        url: String,
        status: ExitStatus,
        stderr_tail: String,
    },
    #[error("Chromium wrote no PNG at `{path}` for `{url}`; its last output:\n{stderr_tail}")]
    NoScreenshot {
        url: String,
        path: PathBuf,
        stderr_tail: String,
    },
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl BrowserError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            BrowserError::NotFound { .. } | BrowserError::Spawn { .. } => {
                "install it (`apt-get install -y chromium`, as scripts/test.sh does) or set BRICKSTACK_CHROMIUM to its path"
            }
            BrowserError::Timeout { .. } => {
                "the page never finished loading: check the server answers, or give the run more time with `with_timeout`"
            }
            _ => "run the same Chromium command by hand to see why",
        }
    }
}

/// A Chromium binary and the deadline of each run.
#[derive(Debug, Clone)]
pub struct Chromium {
    pub path: PathBuf,
    pub timeout: Duration,
}

/// The Chromium to use: [`CHROMIUM_VAR`], else the usual places.
pub fn find_chromium() -> Result<Chromium, BrowserError> {
    let from_env = std::env::var_os(CHROMIUM_VAR).map(PathBuf::from);
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let on_path: Vec<PathBuf> = std::env::split_paths(&path_var)
        .flat_map(|dir| PATH_NAMES.map(|name| dir.join(name)))
        .collect();
    find_chromium_in(from_env.as_deref(), &on_path).map(|path| Chromium {
        path,
        timeout: DEFAULT_TIMEOUT,
    })
}

/// [`find_chromium`] over given inputs: `configured` (the variable's value) wins and must be a
/// file; otherwise the first of the fixed candidates and then `on_path` that is a file.
pub fn find_chromium_in(
    configured: Option<&Path>,
    on_path: &[PathBuf],
) -> Result<PathBuf, BrowserError> {
    if let Some(path) = configured {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(BrowserError::NotFound {
                searched: format!("{CHROMIUM_VAR}={} is not a file", path.display()),
            })
        };
    }
    let candidates: Vec<PathBuf> = CANDIDATES
        .iter()
        .map(PathBuf::from)
        .chain(on_path.iter().cloned())
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| BrowserError::NotFound {
            searched: format!(
                "{CHROMIUM_VAR} is not set; looked at {} and for {} on PATH",
                CANDIDATES.join(", "),
                PATH_NAMES.join(", ")
            ),
        })
}

/// Chromium for `test_name`; when there is none, panics under `CI=true`, otherwise prints a
/// `SKIPPED` line to stderr and returns `None` (the test should return early).
pub fn require_chromium(test_name: &str) -> Option<Chromium> {
    match find_chromium() {
        Ok(chromium) => Some(chromium),
        Err(e) if crate::endpoints::is_ci() => panic!(
            "{test_name}: {e}, and CI is set, so this test may not be skipped\nhint: {}",
            e.hint()
        ),
        Err(e) => {
            eprintln!(
                "SKIPPED {test_name}: {e}; {}; run scripts/test.sh",
                e.hint()
            );
            None
        }
    }
}

/// The DOM of `url` after load, with the Chromium [`find_chromium`] finds.
pub async fn dump_dom(url: &str) -> Result<String, BrowserError> {
    find_chromium()?.dump_dom(url).await
}

/// A `width`×`height` PNG of `url` at `png_path`, with the Chromium [`find_chromium`] finds.
pub async fn screenshot(
    url: &str,
    png_path: &Path,
    width: u32,
    height: u32,
) -> Result<(), BrowserError> {
    find_chromium()?
        .screenshot(url, png_path, width, height)
        .await
}

/// `target/test-artifacts/` of this workspace (or of `CARGO_TARGET_DIR`), created.
pub fn artifacts_dir() -> Result<PathBuf, BrowserError> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).map_err(|source| BrowserError::Io {
        what: "creating",
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// What one run printed and how it ended.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Chromium {
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The DOM of `url` once loaded (`--dump-dom`), as HTML text.
    pub async fn dump_dom(&self, url: &str) -> Result<String, BrowserError> {
        let finished = self.run(url, &["--dump-dom".to_string()]).await?;
        if !finished.status.success() {
            return Err(BrowserError::Failed {
                url: url.into(),
                status: finished.status,
                stderr_tail: tail(&finished.stderr),
            });
        }
        Ok(String::from_utf8_lossy(&finished.stdout).into_owned())
    }

    /// A `width`×`height` PNG of `url` at `png_path` (replaced if it exists); checked to exist
    /// and to be a PNG.
    pub async fn screenshot(
        &self,
        url: &str,
        png_path: &Path,
        width: u32,
        height: u32,
    ) -> Result<(), BrowserError> {
        let absolute = std::path::absolute(png_path).map_err(|source| BrowserError::Io {
            what: "resolving",
            path: png_path.into(),
            source,
        })?;
        if let Some(dir) = absolute.parent() {
            std::fs::create_dir_all(dir).map_err(|source| BrowserError::Io {
                what: "creating",
                path: dir.into(),
                source,
            })?;
        }
        match std::fs::remove_file(&absolute) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(BrowserError::Io {
                    what: "removing the old screenshot",
                    path: absolute,
                    source,
                });
            }
        }
        let args = [
            format!("--screenshot={}", absolute.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".into(),
        ];
        let finished = self.run(url, &args).await?;
        let written = std::fs::read(&absolute).unwrap_or_default();
        if !finished.status.success() {
            return Err(BrowserError::Failed {
                url: url.into(),
                status: finished.status,
                stderr_tail: tail(&finished.stderr),
            });
        }
        if !written.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(BrowserError::NoScreenshot {
                url: url.into(),
                path: absolute,
                stderr_tail: tail(&finished.stderr),
            });
        }
        Ok(())
    }

    /// One headless run on `url` with a fresh profile, killed (with its process group) at the
    /// deadline.
    async fn run(&self, url: &str, extra: &[String]) -> Result<Finished, BrowserError> {
        let profile = tempfile::Builder::new()
            .prefix("brickstack-chromium-")
            .tempdir()
            .map_err(|source| BrowserError::Io {
                what: "creating a profile directory in",
                path: std::env::temp_dir(),
                source,
            })?;
        let mut command = Command::new(&self.path);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-crash-reporter",
                // Containers give /dev/shm 64 MB, too little for a renderer.
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so the renderer and GPU helpers go with it on a kill.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| BrowserError::Spawn {
            path: self.path.clone(),
            source,
        })?;
        let pid = child.id();
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let run = async {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let (read_out, read_err, status) = tokio::join!(
                stdout.read_to_end(&mut out),
                stderr.read_to_end(&mut err),
                child.wait()
            );
            let io = |source| BrowserError::Io {
                what: "reading the output of",
                path: self.path.clone(),
                source,
            };
            read_out.map_err(io)?;
            read_err.map_err(io)?;
            Ok(Finished {
                status: status.map_err(io)?,
                stdout: out,
                stderr: err,
            })
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(finished) => finished,
            Err(_) => {
                if let Some(pid) = pid {
                    kill_group(pid).await;
                }
                Err(BrowserError::Timeout {
                    url: url.into(),
                    seconds: self.timeout.as_secs(),
                })
            }
        }
    }
}

/// Kills the process group `pgid` (the browser we started and its helpers), by its id.
async fn kill_group(pgid: u32) {
    let result = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if let Err(e) = result {
        eprintln!("killing Chromium's process group {pgid} failed: {e}");
    }
}

/// The last lines of a run's stderr, for messages.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
