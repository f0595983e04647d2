//! brickstack-aws against moto. One test binary for every AWS test, because each test binary
//! links the whole SDK; add a module here rather than a new file under `tests/`.
//!
//! Each test works in its own moto account (see [`support::moto_account`]), so tests run in
//! parallel against one moto and never reset it.

mod config;
mod environment;
mod faults;
mod iam;
mod network;
mod provider;
mod retry_layer;
mod secrets;
mod state_backend;
mod sts;
mod support;
mod tls;
mod vpc;
