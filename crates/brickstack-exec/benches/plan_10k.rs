//! Benchmark: plan a generated environment of 10,000 resources with no network.
//!
//! The environment is applied once to the in-memory provider (so every resource is recorded and
//! the plan must refresh and diff all of them), then planned repeatedly. Prints the median plan
//! time and the process's peak memory. Run with `scripts/bench.sh` or
//! `cargo bench -p brickstack-exec --bench plan_10k`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use brickstack_exec::{Engine, Request, Runner};
use brickstack_graph::{Address, Resources, Value, map, reference};
use brickstack_provider::memory::MemoryProvider;
use brickstack_provider::{CreateRequest, Provider};
use brickstack_state::{
    LockInfo, LockRequest, RecordedResource, State, StateError, StateStore, check_write,
};
use time::OffsetDateTime;

/// Resources and runs for the benchmark; `cargo test --all-targets` runs this program without
/// `--bench`, and then it only checks it still works, on a small graph.
fn size() -> (usize, usize) {
    if std::env::args().any(|a| a == "--bench") {
        (10_000, 5)
    } else {
        (300, 1)
    }
}

#[derive(Default)]
struct MemoryStore {
    state: Mutex<Option<State>>,
    lock: Mutex<Option<LockInfo>>,
}

impl StateStore for MemoryStore {
    fn location(&self) -> String {
        "memory".into()
    }
    async fn lock(&self, request: &LockRequest) -> Result<LockInfo, StateError> {
        let info = LockInfo::from_request(request, "memory");
        *self.lock.lock().unwrap() = Some(info.clone());
        Ok(info)
    }
    async fn heartbeat(&self, lock: &LockInfo, _: OffsetDateTime) -> Result<LockInfo, StateError> {
        Ok(lock.clone())
    }
    async fn unlock(&self, _: &LockInfo) -> Result<(), StateError> {
        *self.lock.lock().unwrap() = None;
        Ok(())
    }
    async fn force_unlock(&self, _: &str) -> Result<(), StateError> {
        Ok(())
    }
    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.lock.lock().unwrap().clone())
    }
    async fn read(&self) -> Result<Option<State>, StateError> {
        Ok(self.state.lock().unwrap().clone())
    }
    async fn write(&self, _: &LockInfo, state: &State) -> Result<(), StateError> {
        let mut stored = self.state.lock().unwrap();
        check_write(stored.as_ref(), state)?;
        *stored = Some(state.clone());
        Ok(())
    }
}

/// 100 kinds of 100 resources; each refers to up to three earlier ones, like a real environment's
/// subnets referring to a VPC and policies to buckets.
fn generated_graph(resources_wanted: usize) -> brickstack_graph::ResourceGraph {
    let spec = brickstack_spec::parse(
        "bench.toml",
        "[environment]\nname = \"bench\"\n[databricks.account]\naccount_id = \"0d26daa6-5e44-4c97-a497-ef015f91254a\"\n",
    )
    .unwrap();
    let mut resources = Resources::default();
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..resources_wanted {
        let kind = format!("bench_kind_{}", i % 100);
        let mut attributes = map! {
            "name" => format!("resource-{i}"),
            "size" => (i % 17) as i64,
            "labels" => map! { "team" => "data", "tier" => format!("t{}", i % 3) },
        };
        if let Value::Map(m) = &mut attributes {
            for r in 0..rng.usize(0..=3).min(i) {
                let j = rng.usize(0..i);
                m.insert(
                    format!("ref{r}"),
                    reference(
                        &Address::new(format!("bench_kind_{}", j % 100), format!("r{j}")),
                        "id",
                    ),
                );
            }
        }
        resources.add(&kind, format!("r{i}"), attributes);
    }
    brickstack_graph::build(&spec, resources).unwrap()
}

/// Creates every object in the provider and records it, as a finished apply would have, without
/// timing the executor (this benchmark is about planning).
async fn record_everything(
    provider: &MemoryProvider,
    store: &MemoryStore,
    graph: &brickstack_graph::ResourceGraph,
) {
    let mut state = State::new("bench", "bench-lineage");
    for resource in graph.creation_order() {
        let lookup = |r: &brickstack_graph::Reference| {
            state
                .resources
                .get(&r.address.to_string())
                .and_then(|rec| rec.attributes.get(&r.attribute).cloned())
        };
        let attributes: serde_json::Map<String, serde_json::Value> = resource
            .attributes
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.resolve(&lookup, &|_| None)
                        .expect("dependencies come first"),
                )
            })
            .collect();
        let observed = provider
            .create(&CreateRequest {
                address: resource.address.to_string(),
                kind: resource.kind().to_string(),
                attributes,
                lookup: Default::default(),
            })
            .await
            .unwrap();
        state.resources.insert(
            resource.address.to_string(),
            RecordedResource {
                kind: resource.kind().to_string(),
                object_id: observed.object_id,
                attributes: observed.attributes,
                dependencies: graph
                    .dependencies(&resource.address)
                    .into_iter()
                    .map(ToString::to_string)
                    .collect(),
                status: Default::default(),
                removal_grace_seconds: None,
                retiring_since: None,
            },
        );
    }
    state.serial = 1;
    *store.state.lock().unwrap() = Some(state);
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let (resources, runs) = size();
    let started = Instant::now();
    let graph = generated_graph(resources);
    let build_time = started.elapsed();
    let provider = MemoryProvider::new();
    let store = MemoryStore::default();
    let engine = Engine {
        provider: &provider,
        store: &store,
        runner: Runner::default(),
    };
    let request = Request {
        environment: "bench",
        graph: &graph,
        targets: &[],
        excludes: &[],
        replace: &[],
        refresh: brickstack_exec::RefreshMode::Full,
    };
    record_everything(&provider, &store, &graph).await;
    let mut times: Vec<Duration> = Vec::new();
    let mut cpu_times: Vec<Duration> = Vec::new();
    let mut peaks = vec![peak_rss_mib()];
    for _ in 0..runs {
        let t = Instant::now();
        let cpu = thread_cpu();
        let plan = engine.plan(&request).await.unwrap();
        times.push(t.elapsed());
        cpu_times.push(thread_cpu().saturating_sub(cpu));
        peaks.push(peak_rss_mib());
        assert!(!plan.has_changes(), "a no-op plan expected");
        assert_eq!(plan.changes.len(), resources);
    }
    times.sort();
    println!("resources:          {resources}");
    println!(
        "graph build:        {:.1} ms",
        build_time.as_secs_f64() * 1000.0
    );
    println!(
        "plan (median of {runs}): {:.1} ms (min {:.1}, max {:.1})",
        times[runs / 2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[runs - 1].as_secs_f64() * 1000.0
    );
    cpu_times.sort();
    println!(
        "plan CPU time (median of {runs}): {:.1} ms (min {:.1}, max {:.1}); wall time counts waiting for a busy CPU, this does not",
        cpu_times[runs / 2].as_secs_f64() * 1000.0,
        cpu_times[0].as_secs_f64() * 1000.0,
        cpu_times[runs - 1].as_secs_f64() * 1000.0
    );
    println!("peak memory:        {:.0} MiB", peak_rss_mib());
    println!(
        "peak memory after setup, then after each plan: {} MiB",
        peaks
            .iter()
            .map(|p| format!("{p:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// CPU time of this thread so far (the plan runs on it: `block_on` polls every future here), from
/// the kernel's scheduler statistics, in nanoseconds.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map_or(Duration::ZERO, Duration::from_nanos)
}
