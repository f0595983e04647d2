//! Where the emulators started by `scripts/emulators.sh` listen.
//!
//! Endpoints are *read*, never written: first from the process environment (after
//! `source .emulators.env`, as `scripts/test.sh` does), otherwise from `.emulators.env` at the
//! workspace root, so a plain `cargo test` finds emulators that are already running. Each
//! emulator is probed once per test process (moto `GET /moto-api/`, minilake
//! `GET /_minilake/health`, ours `GET /health`), so a stale file reads as "not running".
//! Our Databricks emulator serves the account API at `DATABRICKS_ACCOUNT_HOST` and the workspaces
//! under the same URL (`DATABRICKS_HOST` holds it too, for tools that read the standard variable).
//! moto serves https with a certificate signed by the CA in `AWS_CA_BUNDLE`: the probe checks that
//! chain, so a test never starts against a moto whose certificate its clients would refuse.
//!
//! A test asks with [`require_moto`] (or [`require_minilake`], [`require_databricks`]): when the
//! emulator is missing it panics under `CI=true`, and otherwise prints a loud `SKIPPED` line
//! and returns `None` so the test can return early.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Variable holding moto's URL (the AWS SDKs' own endpoint override variable).
pub const AWS_ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";
/// Variable holding the PEM file of the CA that signed moto's certificate (the AWS CLI's and
/// SDKs' standard name; brickstack reads it too).
pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";
/// Variable holding moto's plain-http listener (same backends as the https one), only for tests
/// that a TLS-only policy refuses plain http.
pub const MOTO_PLAIN_HTTP_VAR: &str = "BRICKSTACK_MOTO_PLAIN_HTTP_URL";
/// Variable holding minilake's URL.
pub const MINILAKE_URL_VAR: &str = "BRICKSTACK_MINILAKE_URL";
/// Variable holding the Databricks emulator's URL (account API; workspaces live under it).
pub const ACCOUNT_HOST_VAR: &str = "DATABRICKS_ACCOUNT_HOST";
/// Variable the env file also sets to the Databricks emulator's URL (the SDKs' standard name).
pub const HOST_VAR: &str = "DATABRICKS_HOST";
/// Variable holding the OAuth client id the Databricks emulator accepts.
pub const CLIENT_ID_VAR: &str = "DATABRICKS_CLIENT_ID";
/// Variable holding the OAuth client secret the Databricks emulator accepts.
pub const CLIENT_SECRET_VAR: &str = "DATABRICKS_CLIENT_SECRET";

/// The file `scripts/emulators.sh start` writes, relative to the workspace root.
pub const ENV_FILE_NAME: &str = ".emulators.env";

const START_HINT: &str = "start them with `scripts/emulators.sh start && source .emulators.env`, or run everything with `scripts/test.sh`";

/// What the environment (or `.emulators.env`) says about the emulators; `None` = not configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emulators {
    /// moto's URL (`AWS_ENDPOINT_URL`).
    pub aws_endpoint: Option<String>,
    /// `AWS_CA_BUNDLE`: the CA moto's certificate is signed by.
    pub aws_ca_bundle: Option<String>,
    /// moto's plain-http listener (`BRICKSTACK_MOTO_PLAIN_HTTP_URL`).
    pub moto_plain_http_url: Option<String>,
    /// `AWS_REGION`.
    pub aws_region: Option<String>,
    /// `AWS_ACCESS_KEY_ID` to use against moto.
    pub aws_access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY` to use against moto.
    pub aws_secret_access_key: Option<String>,
    /// minilake's URL (`BRICKSTACK_MINILAKE_URL`).
    pub minilake_url: Option<String>,
    /// The Databricks emulator's URL (`DATABRICKS_ACCOUNT_HOST`).
    pub databricks_url: Option<String>,
    /// `DATABRICKS_CLIENT_ID` accepted by the Databricks emulator.
    pub databricks_client_id: Option<String>,
    /// `DATABRICKS_CLIENT_SECRET` accepted by the Databricks emulator.
    pub databricks_client_secret: Option<String>,
    /// Where the values came from, for messages.
    pub source: String,
}

/// Reading or parsing `.emulators.env` failed.
/// The OAuth client id the Databricks emulator accepts unless configured otherwise (its
/// `DEFAULT_CLIENT_ID`; the emulator's tests check the two agree).
pub const EMULATOR_CLIENT_ID: &str = "brickstack-test-client";
/// The OAuth client secret it accepts unless configured otherwise (test-only, not a secret).
pub const EMULATOR_CLIENT_SECRET: &str = "brickstack-test-secret";

#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` line {line}: expected `export NAME=value`, found `{text}`")]
    Syntax {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

impl Emulators {
    /// Reads the process environment; for each emulator whose URL variable is unset, falls back to
    /// `.emulators.env` at the workspace root. Never modifies the environment.
    pub fn discover() -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let path = env_file_path();
        let file = match parse_env_file(&path) {
            Ok(vars) => vars,
            Err(EnvFileError::Read { .. }) => BTreeMap::new(),
            Err(e) => {
                eprintln!("warning: ignoring {e}");
                BTreeMap::new()
            }
        };
        Self::from_sources(env, &file, &path)
    }

    /// Combines two sources. Each emulator's variables are taken as a group from one source (the
    /// environment if it has that emulator's URL variable, else the file), so a stale file never
    /// mixes with a live environment.
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: &BTreeMap<String, String>,
        file_path: &Path,
    ) -> Self {
        let from_file = |name: &str| file.get(name).filter(|v| !v.is_empty()).cloned();
        let get = |use_env: bool, name: &str| if use_env { env(name) } else { from_file(name) };
        let aws = env(AWS_ENDPOINT_VAR).is_some();
        let lake = env(MINILAKE_URL_VAR).is_some();
        let acct = env(ACCOUNT_HOST_VAR).is_some();
        let file_src = format!("`{}`", file_path.display());
        let source = match (aws || lake || acct, aws && lake && acct) {
            (_, true) => "the environment".to_string(),
            (true, false) => format!("the environment and {file_src}"),
            (false, _) => file_src,
        };
        Emulators {
            aws_endpoint: get(aws, AWS_ENDPOINT_VAR),
            aws_ca_bundle: get(aws, CA_BUNDLE_VAR),
            moto_plain_http_url: get(aws, MOTO_PLAIN_HTTP_VAR),
            aws_region: get(aws, "AWS_REGION").or_else(|| get(aws, "AWS_DEFAULT_REGION")),
            aws_access_key_id: get(aws, "AWS_ACCESS_KEY_ID"),
            aws_secret_access_key: get(aws, "AWS_SECRET_ACCESS_KEY"),
            minilake_url: get(lake, MINILAKE_URL_VAR),
            databricks_url: get(acct, ACCOUNT_HOST_VAR),
            databricks_client_id: get(acct, CLIENT_ID_VAR),
            databricks_client_secret: get(acct, CLIENT_SECRET_VAR),
            source,
        }
    }
}

/// `.emulators.env` at the workspace root (located from this crate's manifest directory).
pub fn env_file_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(ENV_FILE_NAME)
}

/// Parses a file of `export NAME=value` / `NAME=value` lines (blank lines and `#` comments allowed;
/// a value may be wrapped in matching single or double quotes).
pub fn parse_env_file(path: &Path) -> Result<BTreeMap<String, String>, EnvFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| EnvFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_env_text(&text).map_err(|(line, text)| EnvFileError::Syntax {
        path: path.to_owned(),
        line,
        text,
    })
}

fn parse_env_text(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut vars = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            return Err((index + 1, raw.to_string()));
        };
        let valid_name =
            !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !valid_name {
            return Err((index + 1, raw.to_string()));
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(value);
        vars.insert(name.to_string(), unquoted.to_string());
    }
    Ok(vars)
}

fn emulators() -> &'static Emulators {
    static EMULATORS: OnceLock<Emulators> = OnceLock::new();
    EMULATORS.get_or_init(Emulators::discover)
}

/// moto, ready for the SDK: endpoint, the CA to trust, static credentials and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MotoEndpoint {
    /// `https://127.0.0.1:N` (or `http://` for a moto started without TLS).
    pub url: String,
    /// The CA that signed moto's certificate (`AWS_CA_BUNDLE`); `None` for plain http.
    pub ca_bundle: Option<PathBuf>,
    /// moto's plain-http listener on the same backends, when it has one.
    pub plain_http_url: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl MotoEndpoint {
    /// A role ARN in `account_id`: assuming it (no role needs to exist in moto) yields credentials
    /// that act in that account, which is how a test gets its own moto account.
    pub fn role_arn(&self, account_id: &str) -> String {
        format!("arn:aws:iam::{account_id}:role/brickstack-test")
    }
}

/// minilake (the Databricks workspace API emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinilakeEndpoint {
    /// `http://127.0.0.1:N`.
    pub url: String,
}

/// The Databricks emulator and the OAuth client it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabricksEndpoint {
    /// `http://127.0.0.1:N`.
    pub url: String,
    pub client_id: String,
    pub client_secret: String,
}

/// moto if it is configured and answering, else `None` (no message; see [`require_moto`]).
pub fn moto() -> Option<MotoEndpoint> {
    probe_moto().ok()
}

/// minilake if it is configured and answering, else `None`.
pub fn minilake() -> Option<MinilakeEndpoint> {
    probe_minilake().ok()
}

/// The Databricks emulator if it is configured and answering, else `None`.
pub fn databricks() -> Option<DatabricksEndpoint> {
    probe_databricks().ok()
}

/// moto for `test_name`; when it is not running, panics under `CI=true`, otherwise prints a
/// `SKIPPED` line to stderr and returns `None` (the test should return early).
pub fn require_moto(test_name: &str) -> Option<MotoEndpoint> {
    require("moto", test_name, probe_moto())
}

/// minilake for `test_name`, with the same skip-or-panic policy as [`require_moto`].
pub fn require_minilake(test_name: &str) -> Option<MinilakeEndpoint> {
    require("minilake", test_name, probe_minilake())
}

/// The Databricks emulator for `test_name`, with the same policy as [`require_moto`].
/// Tests that need no shared process can start their own with
/// [`DatabricksEmulator::start`](crate::DatabricksEmulator::start) instead.
pub fn require_databricks(test_name: &str) -> Option<DatabricksEndpoint> {
    require("the Databricks emulator", test_name, probe_databricks())
}

fn require<T>(what: &str, test_name: &str, probe: Result<T, String>) -> Option<T> {
    match probe {
        Ok(endpoint) => Some(endpoint),
        Err(reason) if is_ci() => panic!(
            "{test_name}: {what} is not running ({reason}) and CI is set, so this test may not be skipped\nhint: {START_HINT}"
        ),
        Err(reason) => {
            eprintln!("SKIPPED {test_name}: {what} is not running ({reason}); run scripts/test.sh");
            None
        }
    }
}

/// `CI` set to anything but empty, `0` or `false` (CI systems set `CI=true`).
pub(crate) fn is_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

fn probe_moto() -> Result<MotoEndpoint, String> {
    static PROBE: OnceLock<Result<MotoEndpoint, String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let emu = emulators();
            let url = configured(emu, &emu.aws_endpoint, AWS_ENDPOINT_VAR)?;
            let ca_bundle = emu.aws_ca_bundle.as_ref().map(PathBuf::from);
            if url.starts_with("https://") && ca_bundle.is_none() {
                return Err(format!(
                    "`{AWS_ENDPOINT_VAR}={url}` is https but `{CA_BUNDLE_VAR}` is not set in {}",
                    emu.source
                ));
            }
            probe_http_with_ca(&url, "/moto-api/", ca_bundle.as_deref())?;
            let plain_http_url = match &emu.moto_plain_http_url {
                Some(_) => Some(configured(
                    emu,
                    &emu.moto_plain_http_url,
                    MOTO_PLAIN_HTTP_VAR,
                )?),
                None => None,
            };
            Ok(MotoEndpoint {
                url,
                ca_bundle,
                plain_http_url,
                region: emu.aws_region.clone().unwrap_or_else(|| "eu-west-1".into()),
                access_key_id: emu
                    .aws_access_key_id
                    .clone()
                    .unwrap_or_else(|| "testing".into()),
                secret_access_key: emu
                    .aws_secret_access_key
                    .clone()
                    .unwrap_or_else(|| "testing".into()),
            })
        })
        .clone()
}

fn probe_minilake() -> Result<MinilakeEndpoint, String> {
    static PROBE: OnceLock<Result<MinilakeEndpoint, String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let emu = emulators();
            let url = configured(emu, &emu.minilake_url, MINILAKE_URL_VAR)?;
            probe_http(&url, "/_minilake/health")?;
            Ok(MinilakeEndpoint { url })
        })
        .clone()
}

fn probe_databricks() -> Result<DatabricksEndpoint, String> {
    static PROBE: OnceLock<Result<DatabricksEndpoint, String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let emu = emulators();
            let url = configured(emu, &emu.databricks_url, ACCOUNT_HOST_VAR)?;
            probe_http(&url, "/health")?;
            Ok(DatabricksEndpoint {
                url,
                client_id: emu
                    .databricks_client_id
                    .clone()
                    .unwrap_or_else(|| EMULATOR_CLIENT_ID.to_string()),
                client_secret: emu
                    .databricks_client_secret
                    .clone()
                    .unwrap_or_else(|| EMULATOR_CLIENT_SECRET.to_string()),
            })
        })
        .clone()
}

fn configured(emu: &Emulators, value: &Option<String>, var: &str) -> Result<String, String> {
    let url = value
        .clone()
        .ok_or_else(|| format!("`{var}` is not set in the environment nor in `{ENV_FILE_NAME}`"))?;
    let url = url.trim_end_matches('/').to_string();
    // Tests create and delete real-looking objects: never let them loose on a real endpoint.
    match loopback_addr(&url) {
        Some(_) => Ok(url),
        None => Err(format!(
            "`{var}={url}` from {} is not an http(s)://127.0.0.1 address",
            emu.source
        )),
    }
}

/// The socket address of an `http(s)://<loopback>:<port>` URL, or `None` if it is anything else.
fn loopback_addr(url: &str) -> Option<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let authority = rest.split('/').next()?;
    let addr = authority.to_socket_addrs().ok()?.next()?;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Some(addr),
        IpAddr::V6(ip) if ip.is_loopback() => Some(addr),
        _ => None,
    }
}

/// A bare HTTP/1.1 GET with short timeouts; `Ok` on a 200.
fn probe_http(url: &str, path: &str) -> Result<(), String> {
    probe_http_with_ca(url, path, None)
}

/// [`probe_http`], over TLS for an `https://` URL: the server's certificate must chain to the CA
/// in the PEM file `ca` (and name the address), as the SDK will check.
fn probe_http_with_ca(url: &str, path: &str, ca: Option<&Path>) -> Result<(), String> {
    let addr = loopback_addr(url).ok_or_else(|| format!("`{url}` is not a loopback URL"))?;
    let fail = |e: std::io::Error| format!("`GET {url}{path}` failed: {e}");
    let timeout = Duration::from_secs(2);
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(fail)?;
    tcp.set_read_timeout(Some(timeout)).map_err(fail)?;
    tcp.set_write_timeout(Some(timeout)).map_err(fail)?;
    let mut stream: Box<dyn ReadWrite> = if url.starts_with("https://") {
        let ca = ca.ok_or_else(|| format!("`{url}` is https and no CA bundle is given"))?;
        Box::new(tls_client(addr, ca, tcp).map_err(|e| format!("`{url}`: {e}"))?)
    } else {
        Box::new(tcp)
    };
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    stream.flush().map_err(fail)?;
    // A TLS record may carry less than the status line: read until its end (or EOF).
    let mut head = Vec::new();
    let mut buf = [0u8; 64];
    while !head.contains(&b'\n') && head.len() < 256 {
        let n = stream.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let status_line = String::from_utf8_lossy(&head);
    if status_line.starts_with("HTTP/1.1 200") || status_line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!(
            "`GET {url}{path}` answered `{}`",
            status_line.lines().next().unwrap_or("")
        ))
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A TLS client on `tcp` that trusts only the certificates in the PEM file `ca`.
fn tls_client(
    addr: SocketAddr,
    ca: &Path,
    tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the CA bundle `{}`: {e}", ca.display()))?;
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| format!("the CA bundle `{}`: {e}", ca.display()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connection =
        rustls::ClientConnection::new(Arc::new(config), ServerName::IpAddress(addr.ip().into()))
            .map_err(|e| e.to_string())?;
    Ok(rustls::StreamOwned::new(connection, tcp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_file_accepts_exports_comments_and_quotes() {
        let text = "# written by scripts/emulators.sh\n\nexport AWS_ENDPOINT_URL=http://127.0.0.1:5000\nAWS_REGION='eu-west-1'\nexport X=\"a b\"\n";
        assert_eq!(
            parse_env_text(text).unwrap(),
            vars(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
                ("AWS_REGION", "eu-west-1"),
                ("X", "a b"),
            ])
        );
    }

    #[test]
    fn env_file_rejects_lines_without_assignment() {
        assert_eq!(
            parse_env_text("export A=1\nnonsense\n"),
            Err((2, "nonsense".to_string()))
        );
        assert!(parse_env_text("bad name=1").is_err());
    }

    #[test]
    fn environment_wins_per_emulator_and_file_fills_the_rest() {
        let env = vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1111"),
            ("AWS_ACCESS_KEY_ID", "from-env"),
        ]);
        let file = vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"),
            ("AWS_ACCESS_KEY_ID", "from-file"),
            ("AWS_REGION", "eu-west-1"),
            ("DATABRICKS_ACCOUNT_HOST", "http://127.0.0.1:3333"),
            ("DATABRICKS_CLIENT_ID", "client"),
        ]);
        let emu = Emulators::from_sources(|k| env.get(k).cloned(), &file, Path::new(".e"));
        assert_eq!(emu.aws_endpoint.as_deref(), Some("http://127.0.0.1:1111"));
        assert_eq!(emu.aws_access_key_id.as_deref(), Some("from-env"));
        // The region is not mixed in from the (possibly stale) file.
        assert_eq!(emu.aws_region, None);
        assert_eq!(emu.databricks_url.as_deref(), Some("http://127.0.0.1:3333"));
        assert_eq!(emu.databricks_client_id.as_deref(), Some("client"));
        assert_eq!(emu.minilake_url, None);
    }

    #[test]
    fn the_ca_bundle_and_plain_listener_come_with_the_aws_endpoint() {
        let env = vars(&[("AWS_ENDPOINT_URL", "https://127.0.0.1:1111")]);
        let file = vars(&[
            ("AWS_ENDPOINT_URL", "https://127.0.0.1:2222"),
            ("AWS_CA_BUNDLE", "/stale/ca.pem"),
            ("BRICKSTACK_MOTO_PLAIN_HTTP_URL", "http://127.0.0.1:2223"),
        ]);
        let from_env = Emulators::from_sources(|k| env.get(k).cloned(), &file, Path::new(".e"));
        assert_eq!(
            from_env.aws_ca_bundle, None,
            "a stale file's CA is not mixed in"
        );
        assert_eq!(from_env.moto_plain_http_url, None);
        let from_file = Emulators::from_sources(|_| None, &file, Path::new(".e"));
        assert_eq!(from_file.aws_ca_bundle.as_deref(), Some("/stale/ca.pem"));
        assert_eq!(
            from_file.moto_plain_http_url.as_deref(),
            Some("http://127.0.0.1:2223")
        );
    }

    #[test]
    fn only_loopback_http_and_https_urls_are_accepted() {
        assert!(loopback_addr("http://127.0.0.1:5000").is_some());
        assert!(loopback_addr("http://127.0.0.1:5000/").is_some());
        assert!(loopback_addr("http://[::1]:5000").is_some());
        assert!(loopback_addr("https://127.0.0.1:5000").is_some());
        assert!(loopback_addr("ftp://127.0.0.1:5000").is_none());
        assert!(loopback_addr("http://10.0.0.1:5000").is_none());
        assert!(loopback_addr("https://ec2.eu-west-1.amazonaws.com").is_none());
    }

    #[test]
    fn probe_reports_a_closed_port() {
        // Bind then drop to find a port that is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = probe_http(&format!("http://127.0.0.1:{port}"), "/health").unwrap_err();
        assert!(err.contains("/health"), "{err}");
    }
}
